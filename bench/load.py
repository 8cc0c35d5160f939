"""The load driver: asyncio and a lean keep-alive HTTP client (``bench.http_client``) against
the API's URLs (one for ``make run``'s edge, or several).

- One connection pool per URL, warmed before the clock starts, so a measurement never
  includes connection set-up. The client costs the shared 2 cores a tenth of what aiohttp
  did (about 1 ms per request) and never retries.
- Clients (workers) are spread over the URLs: worker ``w`` talks to URL ``w % N``. Closed
  loop: a worker sends its next request when the previous one answered, so "concurrency 8"
  means exactly 8 requests in flight.
- Every answer is recorded as a ``Sample`` (operation, status, latency, time). A transport
  failure (instance killed, connection reset) is status 0, a client timeout status -1.
  Latency runs from send to the last byte of the body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.http_client import HttpConnectionPool, ProtocolError
from tests.api_client import session_body

CONNECTION_ERROR = 0
CLIENT_TIMEOUT = -1


@dataclass(frozen=True, slots=True)
class Sample:
    op: str
    status: int
    latency: float  # seconds
    started: float  # time.perf_counter() at send
    instance: int


@dataclass(slots=True)
class Reply:
    status: int
    body: Any
    latency: float


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)

    def add(self, op: str, reply: Reply, started: float, instance: int) -> None:
        self.samples.append(Sample(op, reply.status, reply.latency, started, instance))

    def of(self, op: str, status: int | None = None) -> list[Sample]:
        return [s for s in self.samples if s.op == op and (status is None or s.status == status)]


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_ms(samples: Sequence[Sample]) -> dict[str, float]:
    return summary_ms([s.latency for s in samples])


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Count, p50/p90/p99 and max of latencies given in seconds, in milliseconds."""
    values = [s * 1000 for s in seconds]
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


def status_counts(samples: Sequence[Sample]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in samples:
        key = {CONNECTION_ERROR: "conn_error", CLIENT_TIMEOUT: "timeout"}.get(s.status, str(s.status))
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


class LoadDriver:
    """The load side of the API client (tests.api_client): the same requests, sent from
    asyncio over the lean pool, timed. Use as ``async with LoadDriver(urls) as api``."""

    def __init__(self, urls: Sequence[str], *, connections_per_instance: int = 64, timeout: float = 30.0) -> None:
        self.urls = list(urls)
        self._connections = connections_per_instance
        self._timeout = timeout
        self.clients: list[HttpConnectionPool] = []

    async def __aenter__(self) -> LoadDriver:
        self.clients = [HttpConnectionPool(url, self._connections, self._timeout) for url in self.urls]
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(client.close() for client in self.clients), return_exceptions=True)

    @property
    def instances(self) -> int:
        return len(self.urls)

    async def warm(self, per_instance: int) -> None:
        """Open ``per_instance`` keep-alive connections to every URL before measuring."""
        await asyncio.gather(
            *(
                self.call(i, "GET", "/sessions?limit=1", parse=False)
                for i in range(self.instances)
                for _ in range(per_instance)
            )
        )

    async def call(self, instance: int, method: str, path: str, body: Any = None, *, parse: bool = True) -> Reply:
        """One request. The body of a 2xx answer is parsed (``parse``); error bodies never are."""
        client = self.clients[instance % len(self.clients)]
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        started = time.perf_counter()
        try:
            status, raw = await client.request(method, path, content)
        except TimeoutError:
            return Reply(CLIENT_TIMEOUT, None, time.perf_counter() - started)
        except (OSError, ProtocolError, asyncio.IncompleteReadError):
            return Reply(CONNECTION_ERROR, None, time.perf_counter() - started)
        latency = time.perf_counter() - started
        payload = json.loads(raw) if parse and 200 <= status < 300 and raw else None
        return Reply(status, payload, latency)

    async def timed(
        self, recorder: Recorder, op: str, instance: int, method: str, path: str, body: Any = None, *, parse=True
    ) -> Reply:
        started = time.perf_counter()
        reply = await self.call(instance, method, path, body, parse=parse)
        recorder.add(op, reply, started, instance % len(self.clients))
        return reply

    # Booking helpers --------------------------------------------------------------------

    async def create_session(self, name: str, total_seats: int, *, instance: int = 0) -> tuple[str, list[str]]:
        """A session starting tomorrow; returns its id and its seat ids in seat order."""
        body = session_body(movieName=name[:255], roomNumber="Bench", totalSeats=total_seats)
        created = await self.call(instance, "POST", "/sessions", body)
        if created.status != 201:
            raise RuntimeError(f"POST /sessions failed with {created.status}")
        session_id = created.body["id"]
        seats = await self.seats(session_id, instance=instance)
        return session_id, [seat["id"] for seat in seats]

    async def seats(self, session_id: str, *, instance: int = 0) -> list[dict[str, Any]]:
        reply = await self.call(instance, "GET", f"/sessions/{session_id}/seats")
        if reply.status == 200:
            return reply.body
        raise RuntimeError(f"GET /sessions/{session_id}/seats failed with {reply.status}")

    async def create_sessions(self, name: str, count: int, total_seats: int) -> list[tuple[str, list[str]]]:
        gate = asyncio.Semaphore(4)

        async def one(index: int) -> tuple[str, list[str]]:
            async with gate:
                return await self.create_session(f"{name} #{index}", total_seats, instance=index)

        return list(await asyncio.gather(*(one(i) for i in range(count))))


class Exhausted(Exception):
    """The seat pool has no free seats left."""


class SeatPool:
    """Free seats spread over many sessions: consecutive takes rotate over the sessions, and
    each session hands out its seats in a random order, so concurrent holds rarely touch the
    same session at once (uniform load)."""

    def __init__(self, sessions: Sequence[tuple[str, Sequence[str]]], seed: int = 7) -> None:
        rng = random.Random(seed)
        self._queues: deque[tuple[str, deque[str]]] = deque()
        for session_id, seat_ids in sessions:
            seats = list(seat_ids)
            rng.shuffle(seats)
            self._queues.append((session_id, deque(seats)))
        self.taken = 0

    def take(self, count: int = 1) -> tuple[str, list[str]]:
        for _ in range(len(self._queues)):
            session_id, seats = self._queues[0]
            self._queues.rotate(-1)
            if len(seats) >= count:
                self.taken += count
                return session_id, [seats.popleft() for _ in range(count)]
        raise Exhausted

    @property
    def remaining(self) -> int:
        return sum(len(seats) for _, seats in self._queues)


async def closed_loop(
    concurrency: int,
    duration: float,
    step: Callable[[int, int], Awaitable[bool]],
    *,
    start_together: bool = True,
) -> float:
    """Run ``concurrency`` workers for ``duration`` seconds; worker ``w`` calls
    ``await step(w, i)`` for i = 0, 1, ... until time is up or ``step`` returns False.
    Returns the elapsed wall time."""
    barrier = asyncio.Event()
    deadline = 0.0

    async def worker(w: int) -> None:
        await barrier.wait()
        for i in itertools.count():
            if time.perf_counter() >= deadline:
                return
            if not await step(w, i):
                return

    tasks = [asyncio.create_task(worker(w)) for w in range(concurrency)]
    await asyncio.sleep(0.01 if start_together else 0)
    started = time.perf_counter()
    deadline = started + duration
    barrier.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - started
