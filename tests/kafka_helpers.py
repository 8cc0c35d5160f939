"""Reading what really reached the Kafka broker."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition


@dataclass(frozen=True)
class Delivered:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    raw: bytes | None

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.raw or b"null")


def read_topic(bootstrap: str, topic: str, *, max_seconds: float = 60.0) -> list[Delivered]:
    """Everything on ``topic``, read from the start of every partition up to its current end
    (high watermark): exact, and with no consumer-group rebalance to wait for."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4()}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        remaining = {p for p, end in ends.items() if end > 0}
        found: list[Delivered] = []
        deadline = time.monotonic() + max_seconds
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            found.append(
                Delivered(
                    topic=message.topic(),
                    partition=message.partition(),
                    offset=message.offset(),
                    key=message.key().decode() if message.key() else None,
                    headers={k: (v.decode() if v else "") for k, v in (message.headers() or [])},
                    raw=message.value(),
                )
            )
            if message.offset() + 1 >= ends[message.partition()]:
                remaining.discard(message.partition())
        assert not remaining, f"could not read {topic} to its end within {max_seconds}s"
        return found
    finally:
        consumer.close()


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0
