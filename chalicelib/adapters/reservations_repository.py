"""SQL for seat holds. This is where a hold is decided: ``hold_seats`` (migration 0003) locks
the requested seats in id order and claims them only if every one is free by the database
clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from chalicelib.adapters.database import Cursor
from chalicelib.adapters.outbox_repository import OutboxBatch, OutboxMessage
from chalicelib.domain.models import Reservation, ReservationStatus

_RESERVATION_COLUMNS = """
    r.id, r.session_id, r.seat_ids, r.seat_numbers, r.user_id, r.user_email, r.unit_price,
    CASE WHEN r.status = 'pending' AND r.expires_at <= now() THEN 'expired' ELSE r.status END AS status,
    r.created_at, r.expires_at,
    GREATEST(0, ceil(extract(epoch FROM r.expires_at - now())))::int AS remaining_seconds
"""


def _reservation(row: dict[str, Any]) -> Reservation:
    if row["status"] != "pending":
        row = {**row, "remaining_seconds": 0}
    return Reservation(
        **{
            **row,
            "seat_ids": tuple(row["seat_ids"]),
            "seat_numbers": tuple(row["seat_numbers"]),
            "status": ReservationStatus(row["status"]),
        }
    )


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    """What ``hold_seats`` decided: ``reservation`` (and its outbox messages) when every seat
    was claimed, otherwise why not ('cap', 'no_session', 'started', 'foreign_seats' or
    'taken'), and how many seats the user already held."""

    outcome: str
    already_held: int
    reservation: Reservation | None
    messages: list[OutboxMessage] = field(default_factory=list)


def uuid_array(ids: Sequence[UUID]) -> str:
    """A uuid[] literal: on the hot path a string adapts far faster than a Python list."""
    return "{" + ",".join(str(i) for i in ids) + "}"


_HOLD_ONLY_COLUMNS = {"outcome", "held", "outbox_id", "outbox_event_id", "outbox_waits_for"}


class ReservationsRepository:
    def hold(
        self,
        cur: Cursor,
        *,
        reservation_id: UUID,
        session_id: UUID,
        seat_ids: Sequence[UUID],
        user_id: str,
        user_email: str,
        ttl_seconds: int,
        max_held_seats: int,
        outbox: OutboxBatch,
    ) -> HoldOutcome:
        """Hold every requested seat for ``reservation_id`` or none, in one statement: the
        ``hold_seats`` function (migration 0003) takes the user's lock, counts their live holds
        against ``max_held_seats``, locks the seats in id order and claims them only if all are
        free by the database clock, then inserts the reservation at the session's price and
        ``outbox``'s events."""
        cur.execute(
            f"""
            SELECT * FROM hold_seats(
                %(id)s, %(session_id)s, %(seat_ids)s::uuid[], %(user_id)s, %(user_email)s, %(ttl)s, %(max_held)s,
                {OutboxBatch.SQL_ARGUMENTS})
            """,
            {
                "id": reservation_id,
                "session_id": session_id,
                "seat_ids": uuid_array(seat_ids),
                "user_id": user_id,
                "user_email": user_email,
                "ttl": ttl_seconds,
                "max_held": max_held_seats,
                **outbox.arguments,
            },
        )
        rows = cur.fetchall()
        outcome, held = rows[0]["outcome"], rows[0]["held"]
        if outcome != "held":
            return HoldOutcome(outcome, held, None)
        columns = {key: value for key, value in rows[0].items() if key not in _HOLD_ONLY_COLUMNS}
        return HoldOutcome(
            outcome,
            held,
            _reservation({**columns, "status": ReservationStatus.PENDING.value}),
            outbox.messages([(r["outbox_id"], r["outbox_event_id"], r["outbox_waits_for"]) for r in rows]),
        )

    def get(self, cur: Cursor, reservation_id: UUID, owner: str | None = None) -> Reservation | None:
        """A reservation by id; with ``owner``, only if that user owns it (checked in SQL)."""
        cur.execute(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations r WHERE r.id = %(id)s "
            "AND (%(owner)s::text IS NULL OR r.user_id = %(owner)s)",
            {"id": reservation_id, "owner": owner},
        )
        row = cur.fetchone()
        return _reservation(row) if row else None

    def end_pending(
        self, cur: Cursor, reservation_id: UUID, new_status: ReservationStatus, owner: str | None = None
    ) -> Reservation | None:
        """Move a live pending reservation to ``new_status``; None if it is not live and pending.
        The guard makes confirm, cancel and expiry mutually exclusive: only one can win."""
        cur.execute(
            f"""
            UPDATE reservations r SET status = %(status)s, updated_at = now()
            WHERE r.id = %(id)s AND r.status = 'pending' AND r.expires_at > now()
              AND (%(owner)s::text IS NULL OR r.user_id = %(owner)s)
            RETURNING {_RESERVATION_COLUMNS}
            """,
            {"id": reservation_id, "status": new_status.value, "owner": owner},
        )
        row = cur.fetchone()
        return _reservation(row) if row else None

    def release_seats(self, cur: Cursor, reservation_ids: Sequence[UUID]) -> int:
        """Free the seats still held by these reservations (seats already re-held by someone
        else after the hold lapsed are not touched)."""
        cur.execute(
            """
            UPDATE seats SET status = 'available', reservation_id = NULL, held_until = NULL, updated_at = now()
            WHERE reservation_id = ANY(%s) AND status = 'reserved'
            """,
            (list(reservation_ids),),
        )
        return cur.rowcount

    def sell_seats(self, cur: Cursor, reservation_id: UUID) -> list[dict[str, Any]]:
        cur.execute(
            """
            UPDATE seats SET status = 'sold', held_until = NULL, updated_at = now()
            WHERE reservation_id = %s AND status = 'reserved'
            RETURNING id, seat_number, position
            """,
            (reservation_id,),
        )
        return cur.fetchall()

    def expire_due(self, cur: Cursor, *, limit: int) -> list[Reservation]:
        """Claim and expire a batch of lapsed pending reservations. SKIP LOCKED means two
        sweeps running at once split the work instead of doing it twice, and a reservation
        being confirmed or cancelled right now is left to that request."""
        cur.execute(
            f"""
            WITH due AS (
                SELECT id FROM reservations
                WHERE status = 'pending' AND expires_at <= now()
                ORDER BY expires_at
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE reservations r SET status = 'expired', updated_at = now()
            FROM due WHERE r.id = due.id AND r.status = 'pending'
            RETURNING {_RESERVATION_COLUMNS}
            """,
            (limit,),
        )
        return [_reservation(row) for row in cur.fetchall()]
