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


def _consumer(bootstrap: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4()}", "enable.auto.commit": False})


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The current end (high watermark) of every partition of ``topic``."""
    consumer = _consumer(bootstrap)
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
    finally:
        consumer.close()


def read_topic(
    bootstrap: str, topic: str, *, since: dict[int, int] | None = None, max_seconds: float = 60.0
) -> list[Delivered]:
    """Everything on ``topic`` from ``since`` (default: the start of every partition) up to its
    current end: exact, and with no consumer-group rebalance to wait for."""
    start = since or {}
    todo = {p: end for p, end in end_offsets(bootstrap, topic).items() if end > start.get(p, 0)}
    found: list[Delivered] = []
    if not todo:
        return found
    consumer = _consumer(bootstrap)
    try:
        consumer.assign([TopicPartition(topic, p, start.get(p, OFFSET_BEGINNING)) for p in todo])
        deadline = time.monotonic() + max_seconds
        while todo and time.monotonic() < deadline:
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
            if message.offset() + 1 >= todo.get(message.partition(), 0):
                todo.pop(message.partition(), None)
        assert not todo, f"could not read {topic} to its end within {max_seconds}s"
        return found
    finally:
        consumer.close()


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0
