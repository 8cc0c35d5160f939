"""What the LocalStack end-to-end tests share: the target stack and a Kafka reader."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3

from tests.kafka_helpers import Delivered, end_offsets, read_topic

APP = "cinema-ticketing"
TOPIC = "cinema.booking-events"


@dataclass(frozen=True)
class Deployment:
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
        self.start = end_offsets(bootstrap, topic)

    def read(self) -> list[Delivered]:
        return read_topic(self.bootstrap, self.topic, since=self.start)

    def events_of(self, session_id: str, want: Callable[[list[dict[str, Any]]], bool], timeout: float = 100.0):
        """The events keyed by a session, once ``want`` accepts them. The API publishes right
        after its commit; whatever that misses, the relay (EventBridge, once a minute) sends."""
        deadline = time.monotonic() + timeout
        while True:
            events = [m.event for m in self.read() if m.key == session_id]
            if want(events) or time.monotonic() > deadline:
                return events
            time.sleep(1)
