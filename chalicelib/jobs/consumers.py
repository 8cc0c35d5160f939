"""Kafka consumers as Lambda functions (AWS: triggered by an MSK event-source mapping) and
as long-running processes (locally: ``python -m chalicelib.jobs.consumers metrics``)."""

from __future__ import annotations

import argparse
import base64
import logging
import signal
import sys
import time
from collections import Counter
from typing import Any

from chalice import Blueprint

from chalicelib.adapters.kafka_auth import kafka_security_config
from chalicelib.bootstrap import container
from chalicelib.observability import logger, metrics
from chalicelib.services.projections import BatchInterrupted, EventConsumer, Outcome, RawRecord

consumer_functions = Blueprint(__name__)
BATCH_SIZE = 200  # records applied per database transaction by the local consumer loop


def records_of_msk_event(event: dict[str, Any]) -> list[RawRecord]:
    """Flatten an MSK event (records grouped by "topic-partition", base64 key and value)
    into records in partition and offset order."""
    records = []
    for batch in event.get("records", {}).values():
        for item in batch:
            records.append(
                RawRecord(
                    topic=item["topic"],
                    partition=int(item["partition"]),
                    offset=int(item["offset"]),
                    key=base64.b64decode(item["key"]) if item.get("key") else None,
                    value=base64.b64decode(item["value"]) if item.get("value") else None,
                    timestamp_ms=int(item["timestamp"]) if item.get("timestamp") else None,
                )
            )
    return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))


def handle_msk_event(consumer: EventConsumer, event: dict[str, Any]) -> dict[str, int]:
    # Infrastructure trouble (BatchInterrupted) propagates: Lambda fails the invocation and
    # the event-source mapping delivers the batch again; records applied before the failure
    # are recognised as duplicates.
    outcomes = Counter(outcome.value for outcome in consumer.handle_batch(records_of_msk_event(event)))
    logger.info("consumed batch", extra={"consumer": consumer.name, **outcomes})
    return dict(outcomes)


@consumer_functions.lambda_function(name="metrics_consumer")
def metrics_consumer(event: dict[str, Any], context: Any) -> dict[str, int]:
    return handle_msk_event(container().metrics_consumer, event)


@consumer_functions.lambda_function(name="audit_consumer")
def audit_consumer(event: dict[str, Any], context: Any) -> dict[str, int]:
    return handle_msk_event(container().audit_consumer, event)


class ConsumerLoop:
    """Local long-running consumer. A record's offset is stored only after its work has
    committed (or it was dead-lettered), and stored offsets are committed in the background
    every second: after a crash up to a second of records comes again, the event-id dedupe
    in the same transaction as the work turns their events into no-ops, and a poison record
    among them is dead-lettered a second time. Committing each record synchronously
    instead cost the broker an offset write per event."""

    def __init__(self, consumer: EventConsumer, bootstrap_servers: str, topic: str, group_id: str) -> None:
        from confluent_kafka import Consumer

        self.consumer = consumer
        self._kafka = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": group_id,
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,
                "auto.commit.interval.ms": 1000,
                # Under load, take events in batches rather than one fetch per event; an idle
                # topic still answers within fetch.wait.max.ms.
                "fetch.min.bytes": 16384,
                "fetch.wait.max.ms": 100,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "logger": logging.getLogger("confluent_kafka.consumer"),
                **kafka_security_config(),
            }
        )
        self._assigned = False
        self._kafka.subscribe([topic], on_assign=self._on_assign)
        self._running = True
        self.outcomes: Counter[str] = Counter()

    def _on_assign(self, consumer: Any, partitions: Any) -> None:
        self._assigned = True

    def stop(self) -> None:
        self._running = False

    def run(self, *, max_seconds: float | None = None, idle_exit_seconds: float | None = None) -> Counter[str]:
        started = last_message = time.monotonic()
        try:
            while self._running:
                now = time.monotonic()
                if max_seconds is not None and now - started > max_seconds:
                    break
                # Idle time counts only once partitions are assigned: joining the group can take
                # a while on a busy broker, and that is not the topic being drained.
                if not self._assigned:
                    last_message = now
                elif idle_exit_seconds is not None and now - last_message > idle_exit_seconds:
                    break
                first = self._kafka.poll(0.5)
                if first is None:
                    continue
                # Whatever else is already fetched joins the batch; consume() with a timeout
                # would wait for a full batch (confluent-kafka < 2.13).
                messages = [first, *self._kafka.consume(num_messages=BATCH_SIZE - 1, timeout=0)]
                for message in messages:
                    if message.error():
                        logger.warning("kafka consumer error: %s", message.error())
                messages = [message for message in messages if not message.error()]
                if not messages:
                    continue
                last_message = time.monotonic()
                self._apply(messages)
                metrics.flush_metrics()  # a long-running loop: no invocation ends to flush them
        finally:
            self._kafka.close()
        return self.outcomes

    def _apply(self, messages: list[Any]) -> None:
        """Apply the messages, retrying what infrastructure trouble left undone; an offset is
        stored only once its record's work has committed, and a record is never re-applied
        (or re-dead-lettered) because a later one of its batch hit an outage."""
        records = [
            RawRecord(
                topic=str(message.topic()),
                partition=int(message.partition() or 0),
                offset=int(message.offset() or 0),
                key=message.key(),
                value=message.value(),
                timestamp_ms=message.timestamp()[1] or None,
            )
            for message in messages
        ]
        retry_delay = 0.5
        while records and self._running:
            try:
                outcomes, interrupted = self.consumer.handle_batch(records), None
            except BatchInterrupted as exc:
                outcomes, interrupted = exc.completed, exc
            self.outcomes.update(outcome.value for outcome in outcomes)
            done, messages = messages[: len(outcomes)], messages[len(outcomes) :]
            records = records[len(outcomes) :]
            for message in done:
                self._kafka.store_offsets(message=message)
            if interrupted is not None:
                logger.warning("transient failure, retrying in %.1fs: %s", retry_delay, interrupted.cause)
                time.sleep(retry_delay)
                retry_delay = min(retry_delay * 2, 30.0)


def loop_for(name: str, group_id: str | None = None) -> ConsumerLoop:
    services = container()
    consumer = {"metrics": services.metrics_consumer, "audit": services.audit_consumer}[name]
    return ConsumerLoop(
        consumer,
        services.settings.kafka_bootstrap_servers,
        services.settings.booking_topic,
        group_id or f"{services.settings.kafka_topic_prefix}.{name}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run a booking-event consumer")
    parser.add_argument("name", choices=["metrics", "audit"])
    args = parser.parse_args(argv)
    loop = loop_for(args.name)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    signal.signal(signal.SIGINT, lambda *_: loop.stop())
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["ConsumerLoop", "Outcome", "handle_msk_event", "records_of_msk_event"]
