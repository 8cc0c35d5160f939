"""Helpers shared by the test layers: direct database reads and the error shape. (Requests:
tests.api_client.)"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chalicelib.config import get_settings


def db_rows(sql: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(get_settings().database_url, row_factory=dict_row, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def seat_holders(seat_ids: list[str]) -> dict[str, str | None]:
    """Which reservation each seat's row names (the public seat map does not show it)."""
    rows = db_rows(
        "SELECT id::text AS id, reservation_id::text AS holder FROM seats WHERE id = ANY(%s::uuid[])", (seat_ids,)
    )
    return {row["id"]: row["holder"] for row in rows}


def db_execute(sql: str, params: Any = None) -> None:
    with psycopg.connect(get_settings().database_url, autocommit=True) as conn:
        conn.execute(sql, params)


def assert_error_shape(status: int, body: Any, expected: int | None = None) -> None:
    """The error body the README promises: statusCode, error, message (and details for
    validation errors), nothing else."""
    assert isinstance(body, dict), (status, body)
    assert set(body) <= {"statusCode", "error", "message", "details"}, body
    assert body["statusCode"] == status and isinstance(body["message"], str) and body["message"], body
    assert body["error"] == HTTPStatus(status).phrase, body
    if "details" in body:
        assert isinstance(body["details"], list) and all(isinstance(d, str) for d in body["details"]), body
    if expected is not None:
        assert status == expected, (status, body)
