"""Reading what really reached the Kafka broker."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Producer


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


def read_topic(bootstrap: str, topic: str, *, idle_seconds: float = 3.0, max_seconds: float = 60.0) -> list[Delivered]:
    """Everything on ``topic`` from the beginning, read until nothing new arrives."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found: list[Delivered] = []
    import time

    started = last = time.monotonic()
    try:
        while time.monotonic() - last < idle_seconds and time.monotonic() - started < max_seconds:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            last = time.monotonic()
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
    finally:
        consumer.close()
    return found


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0
