"""The one client of the HTTP API, for every test layer and for the benchmarks.

The requests they make are written once, here: a session to create, a hold, a payment.
``ApiClient`` sends them and answers ``Reply(status, body, headers)`` over a transport:

- ``InProcess``: the app in this process, through ``chalice.test.Client`` (tests/integration);
- ``OverHttp``: a running stack over real HTTP, with keep-alive (tests/e2e, tests/browser,
  tests/localstack), and ``ApiClient.burst`` to send many requests at the same instant.

The benchmarks use it too (chaos scenarios, one instance past the edge: ``OverHttp(uds=...)``),
and their asyncio load driver, ``bench.load.LoadDriver``, sends the same bodies
(``session_body``, ``hold_body``) over a transport that costs the shared cores far less.
Tests of the wire itself (methods, header sizes, slow clients) speak httpx or raw sockets.

Nothing here retries: a refused or reset connection is the caller's to see.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

import httpx

JSON_HEADERS = {"Content-Type": "application/json"}


class Reply(NamedTuple):
    status: int
    body: Any  # the JSON answer, or None for an empty one
    headers: Mapping[str, str]


def future(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def session_body(**overrides: Any) -> dict[str, Any]:
    """A valid new session starting tomorrow; ``overrides`` use the API's camelCase names."""
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


def hold_body(session_id: str, seat_ids: Sequence[str], user: str, domain: str = "example.com") -> dict[str, Any]:
    return {"sessionId": session_id, "seatIds": list(seat_ids), "userId": user, "userEmail": f"{user}@{domain}"}


def encode(body: Any) -> bytes | None:
    """JSON for a Python value; text and bytes are sent as they are (malformed on purpose)."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def decode(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


class Transport(Protocol):
    def __call__(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> Reply: ...


class InProcess:
    """The app itself, through Chalice's test client (its local API Gateway emulation)."""

    def __init__(self, chalice_client: Any) -> None:
        self.http = chalice_client.http

    def __call__(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> Reply:
        response = self.http.request(method.upper(), path, headers=dict(headers), body=body or b"")
        return Reply(response.status_code, decode(response.body), response.headers)


class OverHttp:
    """A running stack: one keep-alive httpx client, requests spread round robin over the URLs
    (one for the edge of ``make run`` or API Gateway, several for instances side by side).
    With ``uds``, over that unix socket: one API process, past the edge."""

    def __init__(self, base_urls: Sequence[str], timeout: float = 60.0, uds: str | None = None) -> None:
        self.base_urls = list(base_urls)
        self.timeout = timeout
        self._next = itertools.cycle(self.base_urls)
        self._client = httpx.Client(timeout=timeout, transport=httpx.HTTPTransport(uds=uds) if uds else None)

    def close(self) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        return next(self._next) + path

    def __call__(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> Reply:
        response = self._client.request(method, self.url(path), content=body, headers=headers)
        return Reply(response.status_code, decode(response.content), response.headers)


class ApiClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Reply:
        return self.transport(method, path, encode(body), {**JSON_HEADERS, **(headers or {})})

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("POST", path, body, headers)

    def patch(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("PATCH", path, body, headers)

    def delete(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("DELETE", path, headers=headers)

    # The booking flow ------------------------------------------------------------------

    hold_body = staticmethod(hold_body)

    def new_session(self, headers: Mapping[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        status, session, _ = self.post("/sessions", session_body(**overrides), headers)
        assert status == 201, session
        return session

    def seats(self, session_id: str) -> list[dict[str, Any]]:
        status, seats, _ = self.get(f"/sessions/{session_id}/seats")
        assert status == 200, seats
        return seats

    def hold(
        self, session_id: str, seat_ids: Sequence[str], user: str = "alice", headers: Mapping[str, str] | None = None
    ) -> Reply:
        return self.post("/reservations", hold_body(session_id, seat_ids, user), headers)

    def pay(self, reservation_id: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self.post("/sales", {"reservationId": reservation_id}, headers)

    def burst(self, requests: Sequence[tuple[str, str, Any]], headers: Mapping[str, str] | None = None) -> list[Reply]:
        """Send every request at the same instant, once each has its connection open, and
        answer in the order given. Over HTTP only: in-process requests run one at a time."""
        if not isinstance(self.transport, OverHttp):
            raise TypeError("a burst needs a stack over HTTP")
        transport = self.transport
        sent_headers = {**JSON_HEADERS, **(headers or {})}

        async def run() -> list[Reply]:
            size = len(requests) + 10
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            async with httpx.AsyncClient(limits=limits, timeout=transport.timeout) as client:
                start = asyncio.Event()

                async def one(method: str, path: str, body: Any) -> Reply:
                    request = client.build_request(
                        method, transport.url(path), content=encode(body), headers=sent_headers
                    )
                    await start.wait()
                    response = await client.send(request)
                    return Reply(response.status_code, decode(response.content), response.headers)

                tasks = [asyncio.create_task(one(*request)) for request in requests]
                await asyncio.sleep(0.05)
                start.set()
                return list(await asyncio.gather(*tasks))

        return asyncio.run(run())
