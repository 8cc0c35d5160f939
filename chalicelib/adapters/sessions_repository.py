"""SQL for movie sessions and their seats."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from chalicelib.adapters.database import Cursor
from chalicelib.domain.models import MovieSession, Seat, SeatStatus

# A seat counts as free when nobody holds it, or when its hold has lapsed by the database clock.
SEAT_IS_FREE = "(st.status = 'available' OR (st.status = 'reserved' AND st.held_until <= now()))"

_SESSION_COLUMNS = f"""
    s.id, s.movie_name, s.room_number, s.start_time, s.end_time, s.ticket_price,
    s.total_seats, s.created_at, s.updated_at,
    (SELECT count(*) FROM seats st WHERE st.session_id = s.id AND {SEAT_IS_FREE})::int
        AS available_seats
"""


# The seat map as everyone sees it: effective statuses, by the database clock. A hold lapses
# without any row changing, so the map's version is computed from these effective values,
# never from updated_at alone. Whose hold or sale a seat belongs to is not shown: it would tell
# anyone which seats were bought together, and the owner already has it from their own answer.
_SEAT_MAP = f"""
    SELECT st.id, st.session_id, st.seat_number, st.position,
           CASE WHEN {SEAT_IS_FREE} THEN 'available' ELSE st.status END AS status,
           NULL::uuid AS reservation_id,
           st.created_at, st.updated_at
    FROM seats st WHERE st.session_id = %s
"""
# A digest of every column the map shows, in room order: it changes whenever the map does (a
# seat passing from one hold to another changes its updated_at).
_SEAT_MAP_VERSION = """
    md5(string_agg(concat_ws('|', id, seat_number, status, created_at, updated_at), ',' ORDER BY position))
"""


def _session(row: dict[str, Any]) -> MovieSession:
    return MovieSession(**row)


class SessionsRepository:
    def insert(
        self,
        cur: Cursor,
        *,
        movie_name: str,
        room_number: str,
        start_time: datetime,
        end_time: datetime,
        ticket_price: Decimal,
        seat_numbers: list[str],
    ) -> UUID | None:
        """Insert a session and its seats. Returns None when ``start_time`` is not in the
        future by the database clock (nothing is written then)."""
        session_id = uuid.uuid4()
        cur.execute(
            """
            INSERT INTO movie_sessions
                (id, movie_name, room_number, start_time, end_time, ticket_price, total_seats)
            SELECT %(id)s, %(movie_name)s, %(room_number)s, %(start_time)s, %(end_time)s,
                   %(ticket_price)s, %(total_seats)s
            WHERE %(start_time)s > now()
            RETURNING id
            """,
            {
                "id": session_id,
                "movie_name": movie_name,
                "room_number": room_number,
                "start_time": start_time,
                "end_time": end_time,
                "ticket_price": ticket_price,
                "total_seats": len(seat_numbers),
            },
        )
        if cur.fetchone() is None:
            return None
        self.add_seats(cur, session_id, seat_numbers, first_position=1)
        return session_id

    def add_seats(self, cur: Cursor, session_id: UUID, seat_numbers: list[str], first_position: int) -> None:
        cur.execute(
            """
            INSERT INTO seats (id, session_id, seat_number, position)
            SELECT gen_random_uuid(), %(session_id)s, number, position
            FROM unnest(%(numbers)s::text[], %(positions)s::int[]) AS t(number, position)
            """,
            {
                "session_id": session_id,
                "numbers": seat_numbers,
                "positions": list(range(first_position, first_position + len(seat_numbers))),
            },
        )

    def get(self, cur: Cursor, session_id: UUID) -> MovieSession | None:
        cur.execute(f"SELECT {_SESSION_COLUMNS} FROM movie_sessions s WHERE s.id = %s", (session_id,))
        row = cur.fetchone()
        return _session(row) if row else None

    def lock(self, cur: Cursor, session_id: UUID) -> MovieSession | None:
        """Read a session and lock its row until commit (serialises edits and deletion
        against new holds, which take a key-share lock on it through their foreign key)."""
        cur.execute("SELECT id FROM movie_sessions WHERE id = %s FOR UPDATE", (session_id,))
        if cur.fetchone() is None:
            return None
        return self.get(cur, session_id)

    def page(
        self,
        cur: Cursor,
        *,
        limit: int,
        offset: int,
        ends_after: datetime | None = None,
        starts_before: datetime | None = None,
        movie: str | None = None,
    ) -> tuple[list[MovieSession], int]:
        """One page of the programme and how many sessions match in all. A session matches
        when it ends after ``ends_after`` (default: now, by the database clock), starts before
        ``starts_before`` (if given) and its movie name contains ``movie`` (case-insensitive)."""
        conditions = ["s.end_time > coalesce(%(ends_after)s::timestamptz, now())"]
        if starts_before is not None:
            conditions.append("s.start_time < %(starts_before)s")
        if movie is not None:
            conditions.append("strpos(lower(s.movie_name), lower(%(movie)s)) > 0")
        where = " AND ".join(conditions)
        params = {
            "ends_after": ends_after,
            "starts_before": starts_before,
            "movie": movie,
            "limit": limit,
            "offset": offset,
        }
        # Availability is counted for the page's rows only, after the window has counted them all.
        cur.execute(
            f"""
            WITH page AS (
                SELECT s.id, s.start_time, count(*) OVER () AS total
                FROM movie_sessions s WHERE {where}
                ORDER BY s.start_time, s.id LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT {_SESSION_COLUMNS}, page.total
            FROM page JOIN movie_sessions s ON s.id = page.id
            ORDER BY page.start_time, page.id
            """,
            params,
        )
        rows = cur.fetchall()
        if rows:
            total = int(rows[0]["total"])
        else:  # past the last page: the window saw no row to count on
            cur.execute(f"SELECT count(*) AS total FROM movie_sessions s WHERE {where}", params)
            total = int(cur.fetchone()["total"])  # type: ignore[index]
        return [_session({k: v for k, v in row.items() if k != "total"}) for row in rows], total

    def update(self, cur: Cursor, session_id: UUID, changes: dict[str, Any]) -> bool:
        """Apply column changes. Returns False when a changed time would be in the past."""
        assignments = ", ".join(f"{column} = %({column})s" for column in changes)
        guards = " AND ".join(f"%({column})s > now()" for column in ("start_time", "end_time") if column in changes)
        cur.execute(
            f"""
            UPDATE movie_sessions SET {assignments}, updated_at = now()
            WHERE id = %(session_id)s {"AND " + guards if guards else ""}
            RETURNING id
            """,
            {**changes, "session_id": session_id},
        )
        return cur.fetchone() is not None

    def remove_free_seats_after(self, cur: Cursor, session_id: UUID, last_kept_position: int) -> tuple[int, int]:
        """Delete seats past ``last_kept_position`` if every one of them is free.
        Returns (seats past that position, seats deleted); they differ when some are in use."""
        cur.execute(
            """
            SELECT count(*) AS n FROM seats WHERE session_id = %s AND position > %s
            """,
            (session_id, last_kept_position),
        )
        beyond = int(cur.fetchone()["n"])  # type: ignore[index]
        cur.execute(
            f"""
            DELETE FROM seats st WHERE st.session_id = %s AND st.position > %s AND {SEAT_IS_FREE}
            """,
            (session_id, last_kept_position),
        )
        return beyond, cur.rowcount

    def has_sales_or_live_holds(self, cur: Cursor, session_id: UUID) -> bool:
        cur.execute(
            """
            SELECT EXISTS (SELECT 1 FROM sales WHERE session_id = %(id)s)
                OR EXISTS (SELECT 1 FROM reservations
                           WHERE session_id = %(id)s AND status = 'pending' AND expires_at > now())
                AS in_use
            """,
            {"id": session_id},
        )
        return bool(cur.fetchone()["in_use"])  # type: ignore[index]

    def delete(self, cur: Cursor, session_id: UUID) -> None:
        # Seats point at reservations, so they go first; lapsed and cancelled holds go with them.
        cur.execute("DELETE FROM seats WHERE session_id = %s", (session_id,))
        cur.execute("DELETE FROM reservations WHERE session_id = %s", (session_id,))
        cur.execute("DELETE FROM movie_sessions WHERE id = %s", (session_id,))

    def seats(self, cur: Cursor, session_id: UUID) -> tuple[list[Seat], str | None]:
        """The seat map in room order, with its version (None when the session has no seats)."""
        cur.execute(
            f"""
            WITH seat_map AS ({_SEAT_MAP})
            SELECT m.id, m.session_id, m.seat_number, m.status, m.reservation_id, m.created_at, m.updated_at,
                   (SELECT {_SEAT_MAP_VERSION} FROM seat_map) AS version
            FROM seat_map m ORDER BY m.position
            """,
            (session_id,),
        )
        rows = cur.fetchall()
        version = rows[0]["version"] if rows else None
        seats = [
            Seat(**{**{k: v for k, v in row.items() if k != "version"}, "status": SeatStatus(row["status"])})
            for row in rows
        ]
        return seats, version

    def seat_map_version(self, cur: Cursor, session_id: UUID) -> str | None:
        """The version ``seats`` would return now, computed without sending the rows."""
        cur.execute(
            f"WITH seat_map AS ({_SEAT_MAP}) SELECT {_SEAT_MAP_VERSION} AS version FROM seat_map", (session_id,)
        )
        row = cur.fetchone()
        return row["version"] if row else None
