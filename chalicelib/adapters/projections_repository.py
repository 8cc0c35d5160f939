"""SQL for the consumers' read models: processed-event ledger, metrics and audit trail."""

from __future__ import annotations

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


class ProjectionsRepository:
    def first_delivery(self, cur: Cursor, consumer: str, event_id: UUID) -> bool:
        """Record that ``consumer`` applies this event; False if it already did."""
        cur.execute(
            "INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (consumer, event_id),
        )
        return cur.rowcount == 1

    def add_to_metrics(self, cur: Cursor, event: ReceivedEvent) -> None:
        increments: dict[str, Any] = dict.fromkeys(_METRIC_COLUMNS, 0)
        increments["revenue"] = 0
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
            increments.update(sales=1, seats_sold=seats, revenue=event.amount or 0)
        columns = [*_METRIC_COLUMNS, "revenue"]
        placeholders = ", ".join(f"%({c})s" for c in columns)
        cur.execute(
            f"""
            INSERT INTO session_metrics_daily (session_id, day, {", ".join(columns)})
            VALUES (%(session_id)s, (%(occurred_at)s AT TIME ZONE 'UTC')::date, {placeholders})
            ON CONFLICT (session_id, day) DO UPDATE SET
            {", ".join(f"{c} = session_metrics_daily.{c} + EXCLUDED.{c}" for c in columns)}
            """,
            {"session_id": event.session_id, "occurred_at": event.occurred_at, **increments},
        )

    def record_audit(self, cur: Cursor, event: ReceivedEvent) -> None:
        cur.execute(
            """
            INSERT INTO audit_events (event_id, event_type, session_id, reservation_id, user_id, occurred_at,
                                      kafka_topic, kafka_partition, kafka_offset, payload)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (event_id) DO NOTHING
            """,
            (
                event.event_id,
                event.type.value,
                event.session_id,
                event.reservation_id,
                event.user_id,
                event.occurred_at,
                event.topic,
                event.partition,
                event.offset,
                Jsonb(event.payload),
            ),
        )

    def audit_of_reservation(self, cur: Cursor, reservation_id: UUID, owner: str | None) -> list[dict[str, Any]]:
        cur.execute(
            """
            SELECT event_id, event_type, occurred_at, recorded_at, payload FROM audit_events
            WHERE reservation_id = %(id)s AND (%(owner)s::text IS NULL OR user_id = %(owner)s)
            ORDER BY occurred_at, kafka_partition, kafka_offset
            """,
            {"id": reservation_id, "owner": owner},
        )
        return cur.fetchall()

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
