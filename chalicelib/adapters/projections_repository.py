"""SQL for the consumers' read models: processed-event ledger, metrics and audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from chalicelib.adapters.database import Cursor
from chalicelib.domain.events import EventType, ReceivedEvent

_METRIC_COLUMNS = (
    "reservations_created",
    "seats_reserved",
    "reservations_cancelled",
    "reservations_expired",
    "seats_released",
    "sales",
    "seats_sold",
)


def _increments(event: ReceivedEvent) -> dict[str, Any]:
    increments: dict[str, Any] = dict.fromkeys(_METRIC_COLUMNS, 0)
    increments["revenue"] = Decimal(0)
    seats = len(event.seat_ids)
    if event.type is EventType.RESERVATION_CREATED:
        increments.update(reservations_created=1, seats_reserved=seats)
    elif event.type is EventType.RESERVATION_CANCELLED:
        increments["reservations_cancelled"] = 1
    elif event.type is EventType.RESERVATION_EXPIRED:
        increments["reservations_expired"] = 1
    elif event.type is EventType.SEAT_RELEASED:
        increments["seats_released"] = seats
    elif event.type is EventType.SALE_CONFIRMED:
        increments.update(sales=1, seats_sold=seats, revenue=event.amount or Decimal(0))
    return increments


# Both projections record the events they apply in processed_events in the same statement as
# their work: only the events inserted there for the first time ("fresh") are applied, so a
# redelivered event changes nothing. The statement returns the fresh event ids.
_FRESH = """
    fresh AS (
        INSERT INTO processed_events (consumer, event_id)
        SELECT %(consumer)s, b.event_id FROM batch b
        ON CONFLICT DO NOTHING
        RETURNING event_id
    )
"""

_METRICS_COLUMNS_SQL = ", ".join([*_METRIC_COLUMNS, "revenue"])


class ProjectionsRepository:
    def add_to_metrics(self, cur: Cursor, consumer: str, events: Sequence[ReceivedEvent]) -> set[UUID]:
        """Add a batch of events (distinct ids) to the daily metrics in one statement; returns
        the ids applied now (the others had been applied before)."""
        increments = [_increments(event) for event in events]
        columns = [*_METRIC_COLUMNS, "revenue"]
        unnest_args = ", ".join(f"%({c})s::{'numeric' if c == 'revenue' else 'int'}[]" for c in columns)
        cur.execute(
            f"""
            WITH batch AS (
                SELECT * FROM unnest(%(event_ids)s::uuid[], %(sessions)s::uuid[], %(days)s::date[], {unnest_args})
                     AS b(event_id, session_id, day, {_METRICS_COLUMNS_SQL})
            ), {_FRESH}, totals AS (
                SELECT b.session_id, b.day, {", ".join(f"sum(b.{c}) AS {c}" for c in columns)}
                FROM batch b JOIN fresh f ON f.event_id = b.event_id
                GROUP BY b.session_id, b.day
            ), added AS (
                INSERT INTO session_metrics_daily (session_id, day, {_METRICS_COLUMNS_SQL})
                SELECT session_id, day, {_METRICS_COLUMNS_SQL} FROM totals
                ON CONFLICT (session_id, day) DO UPDATE SET
                {", ".join(f"{c} = session_metrics_daily.{c} + EXCLUDED.{c}" for c in columns)}
            )
            SELECT event_id FROM fresh
            """,
            {
                "consumer": consumer,
                "event_ids": [event.event_id for event in events],
                "sessions": [event.session_id for event in events],
                "days": [event.occurred_at.astimezone(UTC).date() for event in events],
                **{c: [inc[c] for inc in increments] for c in columns},
            },
        )
        return {row["event_id"] for row in cur.fetchall()}

    def record_audit(self, cur: Cursor, consumer: str, events: Sequence[ReceivedEvent]) -> set[UUID]:
        """Record a batch of events (distinct ids) in the audit trail in one statement; returns
        the ids recorded now."""
        cur.execute(
            f"""
            WITH batch AS (
                SELECT * FROM unnest(
                    %(event_ids)s::uuid[], %(types)s::text[], %(sessions)s::uuid[], %(reservations)s::uuid[],
                    %(users)s::text[], %(occurred)s::timestamptz[], %(topics)s::text[], %(partitions)s::int[],
                    %(offsets)s::bigint[], %(payloads)s::jsonb[]
                ) AS b(event_id, event_type, session_id, reservation_id, user_id, occurred_at,
                       kafka_topic, kafka_partition, kafka_offset, payload)
            ), {_FRESH}, recorded AS (
                INSERT INTO audit_events (event_id, event_type, session_id, reservation_id, user_id, occurred_at,
                                          kafka_topic, kafka_partition, kafka_offset, payload)
                SELECT b.* FROM batch b JOIN fresh f ON f.event_id = b.event_id
                ON CONFLICT (event_id) DO NOTHING
            )
            SELECT event_id FROM fresh
            """,
            {
                "consumer": consumer,
                "event_ids": [e.event_id for e in events],
                "types": [e.type.value for e in events],
                "sessions": [e.session_id for e in events],
                "reservations": [e.reservation_id for e in events],
                "users": [e.user_id for e in events],
                "occurred": [e.occurred_at for e in events],
                "topics": [e.topic for e in events],
                "partitions": [e.partition for e in events],
                "offsets": [e.offset for e in events],
                "payloads": [Jsonb(e.payload) for e in events],
            },
        )
        return {row["event_id"] for row in cur.fetchall()}

    def audit_of_reservation(self, cur: Cursor, reservation_id: UUID, owner: str | None) -> list[dict[str, Any]] | None:
        """The reservation's recorded events in order, or None when no such reservation is
        visible to ``owner`` (None: anyone's). A reservation counts as there while its row is
        (its events may not be recorded yet) or any of its events is (a deleted session takes
        its lapsed and cancelled reservations with it; their trail stays)."""
        cur.execute(
            """
            SELECT EXISTS (SELECT 1 FROM reservations
                           WHERE id = %(id)s AND (%(owner)s::text IS NULL OR user_id = %(owner)s)) AS known,
                   a.event_id, a.event_type AS type, a.occurred_at, a.recorded_at, a.payload AS event
            FROM (SELECT 1) AS one
            LEFT JOIN audit_events a
                   ON a.reservation_id = %(id)s AND (%(owner)s::text IS NULL OR a.user_id = %(owner)s)
            ORDER BY a.occurred_at, a.kafka_partition, a.kafka_offset
            """,
            {"id": reservation_id, "owner": owner},
        )
        rows = cur.fetchall()
        events = [{k: v for k, v in row.items() if k != "known"} for row in rows if row["event_id"] is not None]
        if not events and not rows[0]["known"]:
            return None
        return events

    def session_metrics(self, cur: Cursor, session_id: UUID) -> list[dict[str, Any]]:
        cur.execute(
            f"""
            SELECT day, {", ".join(_METRIC_COLUMNS)}, revenue FROM session_metrics_daily
            WHERE session_id = %s ORDER BY day
            """,
            (session_id,),
        )
        return cur.fetchall()

    def lifetime_by_session(self, cur: Cursor) -> list[dict[str, Any]]:
        cur.execute(
            f"""
            SELECT m.session_id, s.movie_name, {", ".join(f"sum(m.{c})::int AS {c}" for c in _METRIC_COLUMNS)},
                   sum(m.revenue) AS revenue
            FROM session_metrics_daily m LEFT JOIN movie_sessions s ON s.id = m.session_id
            GROUP BY m.session_id, s.movie_name
            ORDER BY sum(m.seats_sold) DESC, sum(m.revenue) DESC, m.session_id
            """
        )
        return cur.fetchall()
