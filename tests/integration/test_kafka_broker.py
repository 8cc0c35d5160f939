"""The local stack runs a real Apache Kafka broker: produce a message and consume it back."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from chalicelib.config import get_settings


def test_a_message_round_trips_through_the_real_broker():
    bootstrap = get_settings().kafka_bootstrap_servers
    topic = f"test.roundtrip.{uuid.uuid4().hex[:8]}"
    payload = uuid.uuid4().hex.encode()

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    delivered = []
    producer.produce(topic, key=b"k", value=payload, on_delivery=lambda err, msg: delivered.append(err))
    assert producer.flush(30) == 0
    assert delivered == [None]

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"roundtrip-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    try:
        received = None
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                received = message
                break
        assert received is not None, "nothing consumed within 60s"
        assert received.value() == payload and received.key() == b"k"
    finally:
        consumer.close()
        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])
