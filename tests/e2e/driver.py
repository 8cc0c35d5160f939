"""A small concurrent HTTP driver: fires many requests at the same instant, spread
round-robin over every API instance, and returns (status, body) for each."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


class HttpDriver:
    def __init__(self, base_urls: Sequence[str]) -> None:
        self.base_urls = list(base_urls)
        self._next = itertools.cycle(self.base_urls)

    def url(self, path: str) -> str:
        return next(self._next) + path

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        response = httpx.request(method, self.url(path), json=body, headers=headers, timeout=30)
        return response.status_code, (response.json() if response.content else None)

    def burst(self, requests: Sequence[tuple[str, str, Any]], headers: dict[str, str] | None = None):
        """Send all requests at once (after every connection is ready) and gather results."""

        async def run() -> list[tuple[int, Any]]:
            limits = httpx.Limits(max_connections=len(requests) + 10, max_keepalive_connections=len(requests) + 10)
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:
                start = asyncio.Event()

                async def one(method: str, path: str, body: Any) -> tuple[int, Any]:
                    url = self.url(path)
                    await start.wait()
                    response = await client.request(method, url, json=body, headers=headers)
                    return response.status_code, (response.json() if response.content else None)

                tasks = [asyncio.create_task(one(*request)) for request in requests]
                await asyncio.sleep(0.05)
                start.set()
                return await asyncio.gather(*tasks)

        return asyncio.run(run())

    # Booking shortcuts ----------------------------------------------------------------

    def new_session(self, total_seats: int = 20, price: str = "25.00") -> dict[str, Any]:
        now = datetime.now(UTC)
        status, session = self.request(
            "POST",
            "/sessions",
            {
                "movieName": "E2E",
                "roomNumber": "Sala 9",
                "startTime": (now + timedelta(days=1)).isoformat(),
                "endTime": (now + timedelta(days=1, hours=2)).isoformat(),
                "ticketPrice": price,
                "totalSeats": total_seats,
            },
        )
        assert status == 201, session
        return session

    def seats(self, session_id: str) -> list[dict[str, Any]]:
        status, seats = self.request("GET", f"/sessions/{session_id}/seats")
        assert status == 200, seats
        return seats

    @staticmethod
    def hold_body(session_id: str, seat_ids: list[str], user: str) -> dict[str, Any]:
        return {"sessionId": session_id, "seatIds": seat_ids, "userId": user, "userEmail": f"{user}@example.com"}
