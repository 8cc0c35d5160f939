"""Where events leave the system: a confluent-kafka producer, created once per process.

The producer is idempotent with ``acks=all``; the message key is the session id (order per
session) and the event id travels in a header so consumers can deduplicate. ``send`` hands
messages over without waiting (the API's fast path), ``publish`` waits for the broker's
acknowledgements (the relay, which must know what it may mark published).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from chalicelib.adapters.kafka_auth import kafka_security_config
from chalicelib.adapters.outbox_repository import OutboxMessage
from chalicelib.observability import logger, traced

# Failures that say nothing about the message itself: the broker or the client is unavailable.
_UNAVAILABLE_CODES = {
    KafkaError._MSG_TIMED_OUT,
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._PURGE_QUEUE,
    KafkaError._PURGE_INFLIGHT,
    KafkaError._TIMED_OUT,
    KafkaError._DESTROY,
    KafkaError._FATAL,
}


def _is_unavailability(error: KafkaError | None) -> bool:
    return error is None or error.code() in _UNAVAILABLE_CODES or error.retriable() or error.fatal()


@dataclass
class DeliveryReport:
    delivered: list[UUID] = field(default_factory=list)
    failed: dict[UUID, str] = field(default_factory=dict)
    # Failed for lack of a broker or a usable client, not because of the message: retrying
    # later is all there is to do, and it must not count towards dead-lettering.
    unavailable: set[UUID] = field(default_factory=set)


class EventPublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        publish_timeout_seconds: float,
        retry_after_failure_seconds: float,
        linger_ms: int = 20,
    ) -> None:
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            # Messages produced within linger.ms go in one produce request: the broker's CPU per
            # event falls with the batch size, and the API's fast path does not wait for it.
            "linger.ms": linger_ms,
            # A message is delivered or given up within the publish timeout, which is shorter
            # than the relay's grace period: the relay only sends what the fast path gave up
            # on, so a healthy broker receives each event once.
            "message.timeout.ms": int(publish_timeout_seconds * 1000),
            "socket.connection.setup.timeout.ms": 3000,
            "client.id": "cinema-api",
            # librdkafka's own log lines go through Python logging (JSON in Lambda), not raw stderr.
            "logger": logging.getLogger("confluent_kafka.producer"),
            "error_cb": self._on_client_error,
            **kafka_security_config(),
        }
        self._timeout = publish_timeout_seconds
        self._retry_after = retry_after_failure_seconds
        self._producer: Producer | None = None
        self._down_until = 0.0
        self._fatal = False
        self._lock = threading.Lock()

    def _on_client_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = True
            logger.error("kafka producer hit a fatal error; it will be replaced: %s", error)

    def _replace_producer(self) -> None:
        """Discard the producer (caller holds the lock). A fatal error is permanent for a
        producer instance, and purging part of an idempotent producer's queue corrupts its
        sequence numbers; a fresh producer (new id and epoch) is the safe way to go on. What the
        old one still held is reported failed and re-sent later with the same event ids."""
        old, self._producer, self._fatal = self._producer, None, False
        if old is not None:
            old.purge(in_queue=True, in_flight=True)
            old.poll(0)

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            with self._lock:
                if self._producer is None:
                    self._producer = Producer(self._config)
        return self._producer

    @property
    def recently_failed(self) -> bool:
        return time.monotonic() < self._down_until

    def _mark_down(self) -> None:
        self._down_until = time.monotonic() + self._retry_after

    def _produce(self, producer: Producer, message: OutboxMessage, topic: str | None, on_delivery: Any) -> None:
        producer.produce(
            topic or message.topic,
            key=message.key.encode(),
            value=json.dumps(message.payload, separators=(",", ":")).encode(),
            headers={"eventId": str(message.event_id), "eventType": str(message.payload.get("type", ""))},
            on_delivery=on_delivery,
        )

    def send(self, messages: Sequence[OutboxMessage], on_outcome: Callable[[UUID, bool], None]) -> list[UUID]:
        """Hand messages to the producer without waiting; returns the ids it took. Once the
        broker acknowledges or refuses one, ``on_outcome(event_id, delivered)`` runs inside
        ``poll`` or ``flush``. A failure also marks the broker down for a while: the row stays
        unpublished and the relay sends it."""

        def delivered(error: KafkaError | None, _message: Message, *, event_id: UUID) -> None:
            if error is not None:
                self._mark_down()
            on_outcome(event_id, error is None)

        producer = self.producer
        taken: list[UUID] = []
        with traced("Kafka"), self._lock:  # one process's messages enter the producer in commit order
            for message in messages:
                try:
                    self._produce(producer, message, None, functools.partial(delivered, event_id=message.event_id))
                except (BufferError, KafkaException):
                    self._mark_down()
                    break
                taken.append(message.event_id)
        return taken

    def poll(self, timeout_seconds: float) -> None:
        """Serve delivery callbacks; a producer that hit a fatal error is replaced."""
        producer = self._producer
        if producer is None:
            time.sleep(timeout_seconds)
            return
        producer.poll(timeout_seconds)
        if self._fatal:
            with self._lock:
                if self._fatal:
                    self._replace_producer()

    def flush(self, timeout_seconds: float) -> int:
        """Wait for what was sent; returns how many messages are still not acknowledged."""
        producer = self._producer
        if producer is None:
            return 0
        with traced("Kafka"):
            return producer.flush(timeout_seconds)

    def publish(self, messages: Sequence[OutboxMessage], topic: str | None = None) -> DeliveryReport:
        """Send and wait (bounded) for the broker's acknowledgement of each message."""
        report = DeliveryReport()
        if not messages:
            return report

        def on_delivery(error: KafkaError | None, message: Message, *, event_id: UUID) -> None:
            if error is None:
                report.delivered.append(event_id)
            else:
                report.failed[event_id] = str(error)
                if _is_unavailability(error):
                    report.unavailable.add(event_id)

        producer = self.producer
        with traced("Kafka"), self._lock:  # one batch at a time per process keeps per-session order
            for outbox_message in messages:
                event_id = outbox_message.event_id
                try:
                    self._produce(producer, outbox_message, topic, functools.partial(on_delivery, event_id=event_id))
                except (BufferError, KafkaException) as exc:
                    report.failed[event_id] = str(exc)
                    report.unavailable.add(event_id)
            remaining = producer.flush(self._timeout)
            if remaining or self._fatal:
                self._replace_producer()
        for outbox_message in messages:
            if outbox_message.event_id not in report.delivered and outbox_message.event_id not in report.failed:
                report.failed[outbox_message.event_id] = "delivery not confirmed in time"
                report.unavailable.add(outbox_message.event_id)
        if report.failed:
            self._mark_down()
        return report

    def send_now(
        self, topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str | bytes | None]
    ) -> None:
        """Produce one message and wait for the broker's acknowledgement; raise if it fails."""
        errors: list[KafkaError | None] = []
        producer = self.producer
        with traced("Kafka"), self._lock:
            producer.produce(
                topic, key=key, value=value, headers=headers, on_delivery=lambda error, _msg: errors.append(error)
            )
            remaining = producer.flush(self._timeout * 5)
            if remaining or self._fatal:
                self._replace_producer()
        if remaining or not errors or errors[0] is not None:
            raise KafkaException(errors[0] if errors and errors[0] else "delivery not confirmed in time")

    def broker_reachable(self, timeout_seconds: float = 2.0) -> bool:
        try:
            metadata = self.producer.list_topics(timeout=timeout_seconds)
        except KafkaException:
            return False
        return bool(metadata.brokers)
