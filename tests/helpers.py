"""Helpers shared by the test layers: request builders and direct database reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chalicelib.config import get_settings

JSON = {"Content-Type": "application/json"}


def future(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def session_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "movieName": "Avatar: O Caminho da Água",
        "roomNumber": "Sala 1",
        "startTime": future(24),
        "endTime": future(26.5),
        "ticketPrice": "25.00",
        "totalSeats": 20,
    }
    body.update(overrides)
    return body


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


class Api:
    """Thin wrapper over chalice.test.Client's HTTP side returning (status, json, headers)."""

    def __init__(self, client: Any) -> None:
        self._http = client.http

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = getattr(self._http, method)(path, headers={**JSON, **(headers or {})}, body=raw)
        payload = json.loads(response.body) if response.body else None
        return response.status_code, payload, response.headers

    def get(self, path: str, **kwargs: Any):
        return self._call("get", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any):
        return self._call("post", path, body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any):
        return self._call("patch", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self._call("delete", path, **kwargs)

    # Shortcuts for the booking flow -------------------------------------------------

    def new_session(self, **overrides: Any) -> dict[str, Any]:
        status, session, _ = self.post("/sessions", session_body(**overrides))
        assert status == 201, session
        return session

    def seats(self, session_id: str) -> list[dict[str, Any]]:
        status, seats, _ = self.get(f"/sessions/{session_id}/seats")
        assert status == 200, seats
        return seats

    def hold(self, session_id: str, seat_ids: list[str], user: str = "alice", **kwargs: Any):
        body = {"sessionId": session_id, "seatIds": seat_ids, "userId": user, "userEmail": f"{user}@example.com"}
        return self.post("/reservations", body, **kwargs)


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
