"""SQL for sales. A reservation has at most one sale and a seat is in at most one sale:
both are unique constraints, the last line of defence behind the guarded updates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from chalicelib.adapters.database import Cursor
from chalicelib.domain.models import Reservation, Sale

_SALE_COLUMNS = """
    sa.id, sa.reservation_id, sa.session_id, sa.user_id, sa.user_email, sa.amount, sa.created_at,
    ARRAY(SELECT ss.seat_id FROM sale_seats ss WHERE ss.sale_id = sa.id ORDER BY ss.position) AS seat_ids,
    ARRAY(SELECT ss.seat_number FROM sale_seats ss WHERE ss.sale_id = sa.id ORDER BY ss.position)
        AS seat_numbers
"""


def _sale(row: dict[str, Any]) -> Sale:
    return Sale(**{**row, "seat_ids": tuple(row["seat_ids"]), "seat_numbers": tuple(row["seat_numbers"])})


class SalesRepository:
    def insert(
        self, cur: Cursor, reservation: Reservation, sold_seats: Sequence[dict[str, Any]], amount: Decimal
    ) -> Sale:
        sale_id = uuid.uuid4()
        cur.execute(
            """
            INSERT INTO sales (id, reservation_id, session_id, user_id, user_email, amount)
            VALUES (%s, %s, %s, %s, %s, %s)
            """,
            (sale_id, reservation.id, reservation.session_id, reservation.user_id, reservation.user_email, amount),
        )
        cur.executemany(
            "INSERT INTO sale_seats (sale_id, seat_id, seat_number, position) VALUES (%s, %s, %s, %s)",
            [(sale_id, seat["id"], seat["seat_number"], seat["position"]) for seat in sold_seats],
        )
        sale = self.get(cur, sale_id)
        assert sale is not None
        return sale

    def get(self, cur: Cursor, sale_id: UUID, owner: str | None = None) -> Sale | None:
        cur.execute(
            f"SELECT {_SALE_COLUMNS} FROM sales sa WHERE sa.id = %(id)s "
            "AND (%(owner)s::text IS NULL OR sa.user_id = %(owner)s)",
            {"id": sale_id, "owner": owner},
        )
        row = cur.fetchone()
        return _sale(row) if row else None

    def for_user(self, cur: Cursor, user_id: str, *, limit: int, offset: int) -> list[Sale]:
        cur.execute(
            f"""
            SELECT {_SALE_COLUMNS} FROM sales sa WHERE sa.user_id = %s
            ORDER BY sa.created_at DESC, sa.id LIMIT %s OFFSET %s
            """,
            (user_id, limit, offset),
        )
        return [_sale(row) for row in cur.fetchall()]
