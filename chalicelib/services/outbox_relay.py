"""The outbox relay: publishes whatever the fast path left behind.

Rows are claimed with FOR UPDATE SKIP LOCKED, so relays running at once never send the
same row at the same time. A failed row is retried with exponential backoff and full
jitter; after ``max_attempts`` it is marked dead and copied to the dead-letter topic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.observability import MetricUnit, count, logger

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository


BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff for a row that has failed ``attempts`` times."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempts)))
    return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class RelayResult:
    published: int
    failed: int
    dead: int


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        outbox: OutboxRepository,
        publisher: EventPublisher,
        *,
        dead_letter_topic: str,
        batch_size: int,
        max_attempts: int,
        grace_seconds: float,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._publisher = publisher
        self._dead_letter_topic = dead_letter_topic
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._grace_seconds = grace_seconds

    def run_once(self, grace_seconds: float | None = None) -> RelayResult:
        published = failed = dead = 0
        grace = self._grace_seconds if grace_seconds is None else grace_seconds
        with self._db.transaction() as cur:
            batch = self._outbox.claim_due(cur, limit=self._batch_size, grace_seconds=grace)
            if not batch:
                return RelayResult(0, 0, 0)
            report = self._publisher.publish(batch)
            self._outbox.mark_published(cur, report.delivered)
            published = len(report.delivered)
            for message in batch:
                error = report.failed.get(message.event_id)
                if error is None:
                    continue
                if message.event_id in report.unavailable:
                    # Kafka is down or the client is being replaced: wait, without using up
                    # the message's attempts (dead-lettering is for messages Kafka rejects).
                    self._outbox.postpone(cur, message.id, error, backoff_seconds(message.attempts))
                    failed += 1
                    continue
                if message.attempts + 1 >= self._max_attempts and self._send_to_dead_letter(message):
                    self._outbox.mark_dead(cur, message.id, error)
                    logger.error(
                        "outbox event is dead after %d attempts: %s",
                        message.attempts + 1,
                        error,
                        extra={"eventId": str(message.event_id)},
                    )
                    dead += 1
                else:
                    self._outbox.record_failure(cur, message.id, error, backoff_seconds(message.attempts))
                    failed += 1
        count("RelayPublished", published)
        count("RelayFailures", failed)
        count("RelayDeadLettered", dead)
        return RelayResult(published, failed, dead)

    def _send_to_dead_letter(self, message: OutboxMessage) -> bool:
        """Copy the event to the dead-letter topic; only a confirmed copy lets the row die."""
        try:
            report = self._publisher.publish([message], topic=self._dead_letter_topic)
        except Exception:
            logger.exception("could not copy dead event to %s", self._dead_letter_topic)
            return False
        return message.event_id in report.delivered

    def backlog(self) -> Backlog:
        """What still waits in the outbox (the outbox-age alarm watches the oldest)."""
        with self._db.transaction() as cur:
            waiting, oldest_age = self._outbox.backlog(cur)
        count("OutboxBacklog", waiting)
        count("OutboxOldestPendingAge", oldest_age, unit=MetricUnit.Seconds)
        return Backlog(waiting, round(oldest_age, 3))

    def drain(self, max_batches: int = 50, grace_seconds: float | None = None) -> int:
        total = 0
        for _ in range(max_batches):
            result = self.run_once(grace_seconds)
            total += result.published
            if result.published + result.failed + result.dead == 0 or result.failed + result.dead:
                break
        return total
