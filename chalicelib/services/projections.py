"""The read models fed by booking events (the metrics projection and the audit trail), and the
consumer that applies Kafka records to them.

Each consumer applies an event and records its event id in the same database transaction,
so a redelivered event is skipped and nothing is counted twice. A batch of records is
applied in one transaction (one commit, not one per event); if any record in it fails for a
reason of its own, the batch is rolled back and its records are applied one at a time, so a
poison message never takes the others down with it. What happens on failure:

- infrastructure trouble (database unreachable, lock busy) is transient: the record is
  retried, and its offset is not committed until it succeeds;
- a message that fails ``max_attempts`` times for any other reason, or cannot even be
  decoded, is poison: it is copied to ``<topic>.dlq`` with the error and processing moves on.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from chalicelib.domain.errors import Conflict, Unavailable
from chalicelib.domain.events import PoisonMessage, ReceivedEvent, parse_received
from chalicelib.observability import MetricUnit, count, logger

if TYPE_CHECKING:
    from chalicelib.adapters.database import Cursor, Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.projections_repository import ProjectionsRepository


TRANSIENT_ERRORS = (Unavailable, Conflict)


class BatchInterrupted(Exception):
    """Infrastructure trouble stopped a batch part-way. ``completed`` holds the outcomes of
    the records before the failure, whose work is committed (or dead-lettered); the records
    after them must be retried later, and only those."""

    def __init__(self, completed: list[Outcome], cause: Exception) -> None:
        super().__init__(f"batch stopped after {len(completed)} record(s): {cause}")
        self.completed = completed
        self.cause = cause


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead-lettered"


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None  # when Kafka took the record


class Projection(Protocol):
    name: str

    def apply(self, cur: Cursor, events: Sequence[ReceivedEvent]) -> set[UUID]:
        """Apply the events (distinct ids) this consumer has not applied before, recording
        them as applied, in one statement; returns the ids applied now."""
        ...


class MetricsProjection:
    name = "metrics"

    def __init__(self, repository: ProjectionsRepository) -> None:
        self._repository = repository

    def apply(self, cur: Cursor, events: Sequence[ReceivedEvent]) -> set[UUID]:
        return self._repository.add_to_metrics(cur, self.name, events)


class AuditTrail:
    name = "audit"

    def __init__(self, repository: ProjectionsRepository) -> None:
        self._repository = repository

    def apply(self, cur: Cursor, events: Sequence[ReceivedEvent]) -> set[UUID]:
        return self._repository.record_audit(cur, self.name, events)


class EventConsumer:
    def __init__(
        self,
        db: Database,
        projection: Projection,
        publisher: EventPublisher,
        *,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self.projection = projection
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._sleep = sleep

    @property
    def name(self) -> str:
        return self.projection.name

    def handle_batch(self, records: Sequence[RawRecord]) -> list[Outcome]:
        """Apply records in order, in one transaction when all goes well. Raises
        ``BatchInterrupted`` on infrastructure trouble, saying how many records are done.
        Reports the batch, its outcomes and its lag (the age of its oldest record) as metrics."""
        stamps = [record.timestamp_ms for record in records if record.timestamp_ms]
        if stamps:
            lag = max(0.0, time.time() - min(stamps) / 1000)
            count("ConsumerLag", round(lag, 3), unit=MetricUnit.Seconds, consumer=self.name)
        try:
            outcomes = self._apply_batch(records)
        except BatchInterrupted as exc:
            self._report(exc.completed)
            raise
        self._report(outcomes)
        return outcomes

    def _report(self, outcomes: Sequence[Outcome]) -> None:
        tally = Counter(outcomes)
        count("ConsumerBatches", consumer=self.name)
        for outcome, metric in (
            (Outcome.APPLIED, "ConsumerApplied"),
            (Outcome.DUPLICATE, "ConsumerDuplicates"),
            (Outcome.DEAD_LETTERED, "ConsumerDeadLetters"),
        ):
            if tally[outcome]:
                count(metric, tally[outcome], consumer=self.name)

    def _apply_batch(self, records: Sequence[RawRecord]) -> list[Outcome]:
        if len(records) > 1:
            try:
                events = [
                    parse_received(record.value, topic=record.topic, partition=record.partition, offset=record.offset)
                    for record in records
                ]
                with self._db.transaction() as cur:
                    return self._apply(cur, events)
            except TRANSIENT_ERRORS as exc:
                raise BatchInterrupted([], exc) from exc
            except Exception as exc:  # about some record of the batch: find it by going one by one
                logger.warning(
                    "consumer %s: batch of %d failed (%s); applying one by one", self.name, len(records), exc
                )
        outcomes: list[Outcome] = []
        for record in records:
            try:
                outcomes.append(self.handle(record))
            except TRANSIENT_ERRORS as exc:
                raise BatchInterrupted(outcomes, exc) from exc
        return outcomes

    def _apply(self, cur: Cursor, events: Sequence[ReceivedEvent]) -> list[Outcome]:
        """One statement for the batch; an event id seen twice in it counts once."""
        distinct = list({event.event_id: event for event in events}.values())
        applied = self.projection.apply(cur, distinct)
        outcomes = []
        for event in events:
            outcomes.append(Outcome.APPLIED if event.event_id in applied else Outcome.DUPLICATE)
            applied.discard(event.event_id)
        return outcomes

    def handle(self, record: RawRecord) -> Outcome:
        """Apply one record. Raises a transient error if it should be retried later
        (its offset must then not be committed)."""
        try:
            event = parse_received(record.value, topic=record.topic, partition=record.partition, offset=record.offset)
        except PoisonMessage as exc:
            return self._dead_letter(record, str(exc), attempts=1)
        last_error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                with self._db.transaction() as cur:
                    return self._apply(cur, [event])[0]
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # anything else is about this message: retry, then dead-letter
                last_error = repr(exc)
                logger.warning("consumer %s failed on %s (attempt %d): %s", self.name, event.event_id, attempt, exc)
                if attempt < self._max_attempts:
                    self._sleep(self._backoff * 2 ** (attempt - 1))
        return self._dead_letter(record, last_error, attempts=self._max_attempts)

    def _dead_letter(self, record: RawRecord, error: str, attempts: int) -> Outcome:
        headers: dict[str, str | bytes | None] = {
            "consumer": self.name,
            "error": error[:1000],
            "attempts": str(attempts),
            "originalTopic": record.topic,
            "originalPartition": str(record.partition),
            "originalOffset": str(record.offset),
        }
        self._publisher.send_now(f"{record.topic}.dlq", record.key, record.value, headers)
        logger.error("consumer %s sent a poison message to %s.dlq: %s", self.name, record.topic, error)
        return Outcome.DEAD_LETTERED
