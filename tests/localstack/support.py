"""What the LocalStack end-to-end tests share: the target stack, a Kafka reader, HTTP calls."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
from confluent_kafka import Consumer, TopicPartition

from tests.kafka_helpers import Delivered

APP = "cinema-ticketing"
TOPIC = "cinema.booking-events"


@dataclass(frozen=True)
class Stack:
    api_url: str
    endpoint_url: str | None  # None: AWS itself
    stage: str
    region: str
    database_url: str
    kafka_bootstrap_servers: str

    def function_name(self, name: str) -> str:
        return f"{APP}-{self.stage}-{name}"

    def client(self, service: str) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs.update(endpoint_url=self.endpoint_url, aws_access_key_id="test", aws_secret_access_key="test")
        return boto3.client(service, **kwargs)


def endpoint_of(api_url: str) -> str | None:
    parsed = urlparse(api_url)
    if "/restapis/" in parsed.path or parsed.path.startswith("/_aws/execute-api/"):
        return f"{parsed.scheme}://{parsed.netloc}"
    return None


class TopicReader:
    """Reads what reached the broker after a mark: the topic is shared and long, so each test
    reads from the end offsets it saw when it started, not from the beginning."""

    def __init__(self, bootstrap: str, topic: str = TOPIC) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.start = self._ends()

    def _consumer(self) -> Consumer:
        return Consumer(
            {"bootstrap.servers": self.bootstrap, "group.id": f"ls-reader-{uuid.uuid4()}", "enable.auto.commit": False}
        )

    def _ends(self) -> dict[int, int]:
        consumer = self._consumer()
        try:
            partitions = consumer.list_topics(self.topic, timeout=30).topics[self.topic].partitions
            return {p: consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=30)[1] for p in partitions}
        finally:
            consumer.close()

    def read(self) -> list[Delivered]:
        ends = self._ends()
        consumer = self._consumer()
        found: list[Delivered] = []
        try:
            todo = {p: end for p, end in ends.items() if end > self.start.get(p, 0)}
            if not todo:
                return found
            consumer.assign([TopicPartition(self.topic, p, self.start.get(p, 0)) for p in todo])
            deadline = time.monotonic() + 60
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
            assert not todo, f"could not read {self.topic} to its end"
            return found
        finally:
            consumer.close()

    def events_of(self, session_id: str, want: Callable[[list[dict[str, Any]]], bool], timeout: float = 100.0):
        """The events keyed by a session, once ``want`` accepts them. The API publishes right
        after its commit; whatever that misses, the relay (EventBridge, once a minute) sends."""
        deadline = time.monotonic() + timeout
        while True:
            events = [m.event for m in self.read() if m.key == session_id]
            if want(events) or time.monotonic() > deadline:
                return events
            time.sleep(1)


def call(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = httpx.request(method, stack.api_url + path, json=body, timeout=60)
    return response.status_code, (response.json() if response.content else None)
