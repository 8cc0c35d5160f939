"""SQL for seat holds. This is where a hold is decided: one conditional update that locks
the requested seats in id order and claims only those that are free by the database clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from chalicelib.adapters.database import Cursor
from chalicelib.adapters.sessions_repository import SEAT_IS_FREE
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


class ReservationsRepository:
    def claim_seats(
        self,
        cur: Cursor,
        *,
        reservation_id: UUID,
        session_id: UUID,
        seat_ids: Sequence[UUID],
        ttl_seconds: int,
    ) -> list[dict[str, Any]]:
        """Claim the seats for ``reservation_id`` and return the ones claimed.

        The caller must roll back unless every requested seat came back. Seats are locked in
        id order, so requests for [s1, s3] and [s3, s1] queue instead of deadlocking.
        """
        cur.execute(
            f"""
            WITH open_session AS (
                SELECT id FROM movie_sessions WHERE id = %(session_id)s AND start_time > now()
                FOR KEY SHARE  -- the same lock the reservation's foreign key takes, taken first
            ), locked AS (
                SELECT st.id FROM seats st
                WHERE st.session_id = (SELECT id FROM open_session) AND st.id = ANY(%(seat_ids)s)
                ORDER BY st.id
                FOR UPDATE
            )
            UPDATE seats st
            SET status = 'reserved', reservation_id = %(reservation_id)s,
                held_until = now() + make_interval(secs => %(ttl)s), updated_at = now()
            FROM locked
            WHERE st.id = locked.id AND {SEAT_IS_FREE}
            RETURNING st.id, st.seat_number, st.position
            """,
            {
                "session_id": session_id,
                "seat_ids": list(seat_ids),
                "reservation_id": reservation_id,
                "ttl": ttl_seconds,
            },
        )
        return cur.fetchall()

    def insert(
        self,
        cur: Cursor,
        *,
        reservation_id: UUID,
        session_id: UUID,
        seat_ids: Sequence[UUID],
        seat_numbers: Sequence[str],
        user_id: str,
        user_email: str,
        ttl_seconds: int,
    ) -> Reservation:
        cur.execute(
            f"""
            WITH inserted AS (
                INSERT INTO reservations
                    (id, session_id, user_id, user_email, seat_ids, seat_numbers, unit_price, expires_at)
                SELECT %(id)s, s.id, %(user_id)s, %(user_email)s, %(seat_ids)s, %(seat_numbers)s,
                       s.ticket_price, now() + make_interval(secs => %(ttl)s)
                FROM movie_sessions s WHERE s.id = %(session_id)s
                RETURNING *
            )
            SELECT {_RESERVATION_COLUMNS} FROM inserted r
            """,
            {
                "id": reservation_id,
                "session_id": session_id,
                "user_id": user_id,
                "user_email": user_email,
                "seat_ids": list(seat_ids),
                "seat_numbers": list(seat_numbers),
                "ttl": ttl_seconds,
            },
        )
        return _reservation(cur.fetchone())  # type: ignore[arg-type]

    def lock_holder(self, cur: Cursor, user_id: str) -> int:
        """Serialise this user's holds until commit, then count the seats they hold live.
        Two statements on purpose: the count must see everything committed before the lock
        was granted, so it cannot share the lock's snapshot."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (f"holder:{user_id}",))
        cur.execute(
            """
            SELECT coalesce(sum(cardinality(seat_ids)), 0)::int AS held FROM reservations
            WHERE user_id = %s AND status = 'pending' AND expires_at > now()
            """,
            (user_id,),
        )
        return int(cur.fetchone()["held"])  # type: ignore[index]

    def diagnose_failed_claim(self, cur: Cursor, session_id: UUID, seat_ids: Sequence[UUID]) -> str:
        """Why a claim came back short: 'no_session', 'started', 'foreign_seats' or 'taken'."""
        cur.execute(
            """
            SELECT s.start_time > now() AS open,
                   (SELECT count(*) FROM seats WHERE session_id = s.id AND id = ANY(%(seat_ids)s))::int AS own
            FROM movie_sessions s WHERE s.id = %(session_id)s
            """,
            {"session_id": session_id, "seat_ids": list(seat_ids)},
        )
        row = cur.fetchone()
        if row is None:
            return "no_session"
        if row["own"] != len(seat_ids):
            return "foreign_seats"
        if not row["open"]:
            return "started"
        return "taken"

    def get(self, cur: Cursor, reservation_id: UUID, owner: str | None = None) -> Reservation | None:
        """A reservation by id; with ``owner``, only if that user owns it (checked in SQL)."""
        cur.execute(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations r WHERE r.id = %(id)s "
            "AND (%(owner)s::text IS NULL OR r.user_id = %(owner)s)",
            {"id": reservation_id, "owner": owner},
        )
        row = cur.fetchone()
        return _reservation(row) if row else None

    def exists(self, cur: Cursor, reservation_id: UUID) -> bool:
        cur.execute("SELECT 1 FROM reservations WHERE id = %s", (reservation_id,))
        return cur.fetchone() is not None

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
