"""SQL for the transactional outbox: events are written in the same transaction as the
state change they describe, and published to Kafka after commit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from chalicelib.adapters.database import Cursor
from chalicelib.domain.events import BookingEvent


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    event_id: UUID
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int
    # Older events with the same key that were still unpublished when this one was written.
    waits_for: tuple[UUID, ...] = ()


def _message(row: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        event_id=row["event_id"],
        topic=row["topic"],
        key=row["message_key"],
        payload=row["payload"],
        attempts=row["attempts"],
    )


WAITS_FOR_LIMIT = 16


@dataclass(frozen=True)
class OutboxBatch:
    """Events on their way into the outbox, as the arguments SQL passes to ``outbox_insert``
    (migration 0003): ``add`` runs it on its own, and a statement that writes its own events
    (a hold) runs it inside. ``messages`` turns the rows it returned into what the fast path
    publishes."""

    topic: str
    events: tuple[BookingEvent, ...]
    envelopes: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, topic: str, events: Sequence[BookingEvent]) -> OutboxBatch:
        return cls(topic, tuple(events), tuple(event.envelope() for event in events))

    @property
    def arguments(self) -> dict[str, Any]:
        # One JSON document rather than arrays of ids, types and payloads: adapting Python lists
        # cost psycopg about 90 us a statement, this 4 us.
        events = [
            {"eventId": str(event.event_id), "type": event.type.value, "key": event.key, "payload": envelope}
            for event, envelope in zip(self.events, self.envelopes, strict=True)
        ]
        return {
            "outbox_topic": self.topic,
            "outbox_events": json.dumps(events, separators=(",", ":")),
            "outbox_waits_limit": WAITS_FOR_LIMIT + 1,
        }

    # The placeholders of ``arguments``, in outbox_insert's order.
    SQL_ARGUMENTS = "%(outbox_topic)s, %(outbox_events)s::jsonb, %(outbox_waits_limit)s"

    def messages(self, rows: Sequence[tuple[int, UUID, Sequence[UUID]]]) -> list[OutboxMessage]:
        """Messages in the batch's order from (outbox id, event id, waits for) rows."""
        by_event = {event_id: (outbox_id, tuple(waits_for)) for outbox_id, event_id, waits_for in rows}
        return [
            OutboxMessage(
                id=by_event[event.event_id][0],
                event_id=event.event_id,
                topic=self.topic,
                key=event.key,
                payload=envelope,
                attempts=0,
                waits_for=by_event[event.event_id][1],
            )
            for event, envelope in zip(self.events, self.envelopes, strict=True)
        ]


class OutboxRepository:
    def __init__(self, topic: str) -> None:
        self.topic = topic

    def batch(self, events: Sequence[BookingEvent]) -> OutboxBatch:
        return OutboxBatch.of(self.topic, events)

    def add(self, cur: Cursor, events: Sequence[BookingEvent]) -> list[OutboxMessage]:
        """Insert events in one round trip. Each returned message names the older events with
        the same key that are still unpublished (up to ``WAITS_FOR_LIMIT``; one more means
        "too many"): the fast path may only send it after those, or Kafka would see that
        session's events out of order. Events of the same call never wait for each other."""
        if not events:
            return []
        batch = self.batch(events)
        cur.execute(f"SELECT * FROM outbox_insert({OutboxBatch.SQL_ARGUMENTS})", batch.arguments)
        return batch.messages([(row["id"], row["event_id"], row["waits_for"]) for row in cur.fetchall()])

    def claim_due(self, cur: Cursor, *, limit: int, grace_seconds: float) -> list[OutboxMessage]:
        """Lock unpublished rows that the fast path had its chance at. SKIP LOCKED keeps
        concurrent relays from ever holding the same row at once."""
        cur.execute(
            """
            SELECT id, event_id, topic, message_key, payload, attempts FROM outbox
            WHERE published_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
              AND created_at <= now() - make_interval(secs => %s)
            ORDER BY id
            LIMIT %s
            FOR UPDATE SKIP LOCKED
            """,
            (grace_seconds, limit),
        )
        return [_message(row) for row in cur.fetchall()]

    def mark_published(self, cur: Cursor, event_ids: Sequence[UUID]) -> None:
        if event_ids:
            cur.execute(
                "UPDATE outbox SET published_at = now() WHERE event_id = ANY(%s) AND published_at IS NULL",
                (list(event_ids),),
            )

    def backlog(self, cur: Cursor) -> tuple[int, float]:
        """How many events still wait to be published, and for how many seconds the oldest of
        them has waited, by the database clock (0 when none waits). Dead-lettered rows do not
        count: the dead-letter topic and its alarm cover them."""
        cur.execute(
            """
            SELECT count(*)::int AS waiting,
                   COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age
            FROM outbox WHERE published_at IS NULL AND dead_at IS NULL
            """
        )
        row = cur.fetchone()
        assert row is not None
        return row["waiting"], row["oldest_age"]

    def still_unpublished(self, cur: Cursor, event_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these events are neither published nor dead yet."""
        if not event_ids:
            return set()
        cur.execute(
            "SELECT event_id FROM outbox WHERE event_id = ANY(%s) AND published_at IS NULL AND dead_at IS NULL",
            (list(event_ids),),
        )
        return {row["event_id"] for row in cur.fetchall()}

    def record_failure(self, cur: Cursor, message_id: int, error: str, retry_in_seconds: float) -> None:
        cur.execute(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = %s,
                   next_attempt_at = now() + make_interval(secs => %s)
            WHERE id = %s
            """,
            (error[:2000], retry_in_seconds, message_id),
        )

    def postpone(self, cur: Cursor, message_id: int, error: str, retry_in_seconds: float) -> None:
        """Retry later without counting an attempt (the failure was not the message's)."""
        cur.execute(
            """
            UPDATE outbox SET last_error = %s, next_attempt_at = now() + make_interval(secs => %s)
            WHERE id = %s
            """,
            (error[:2000], retry_in_seconds, message_id),
        )

    def mark_dead(self, cur: Cursor, message_id: int, error: str) -> None:
        cur.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s, dead_at = now() WHERE id = %s",
            (error[:2000], message_id),
        )
