"""SQL for the transactional outbox: events are written in the same transaction as the
state change they describe, and published to Kafka after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

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
    behind_unpublished: bool = False


def _message(row: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        event_id=row["event_id"],
        topic=row["topic"],
        key=row["message_key"],
        payload=row["payload"],
        attempts=row["attempts"],
    )


class OutboxRepository:
    def __init__(self, topic: str) -> None:
        self.topic = topic

    def add(self, cur: Cursor, events: Sequence[BookingEvent]) -> list[OutboxMessage]:
        """Insert events in one round trip. Each returned message says whether an older
        event with the same key is still unpublished: the fast path must then leave it to
        the relay, or Kafka would see that session's events out of order."""
        if not events:
            return []
        envelopes = [event.envelope() for event in events]
        cur.execute(
            """
            INSERT INTO outbox (event_id, event_type, topic, message_key, payload)
            SELECT event_id, event_type, %(topic)s, message_key, payload
            FROM unnest(%(event_ids)s::uuid[], %(types)s::text[], %(keys)s::text[], %(payloads)s::jsonb[])
                 WITH ORDINALITY AS e(event_id, event_type, message_key, payload, n)
            ORDER BY n
            RETURNING id, event_id,
                EXISTS (SELECT 1 FROM outbox older
                        WHERE older.message_key = outbox.message_key AND older.published_at IS NULL
                          AND older.dead_at IS NULL) AS behind_unpublished
            """,
            {
                "topic": self.topic,
                "event_ids": [event.event_id for event in events],
                "types": [event.type.value for event in events],
                "keys": [event.key for event in events],
                "payloads": [Jsonb(envelope) for envelope in envelopes],
            },
        )
        rows = {row["event_id"]: row for row in cur.fetchall()}
        return [
            OutboxMessage(
                id=rows[event.event_id]["id"],
                event_id=event.event_id,
                topic=self.topic,
                key=event.key,
                payload=envelope,
                attempts=0,
                behind_unpublished=rows[event.event_id]["behind_unpublished"],
            )
            for event, envelope in zip(events, envelopes, strict=True)
        ]

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

    def pending_count(self, cur: Cursor) -> int:
        cur.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND dead_at IS NULL")
        return int(cur.fetchone()["n"])  # type: ignore[index]
