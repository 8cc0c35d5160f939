"""Scenarios at the HTTP edge: what a careless or hostile client meets, measured from outside.

- ``burst``: N connections opened first, then each sends one hold of the same seat at the same
  moment. Every one must be answered (exactly one 201, the rest 409); a refused, reset or
  unanswered connection is counted as such, never retried.
- ``slow_clients``: idle connections that never send a byte and slow-loris connections that
  send a header byte per second, held open during a closed-loop hold load: the load's
  latency, and how long the edge took to close the slow ones.
- ``limits``: a 64 MB body, ``Content-Length: 99999999999`` and malformed lengths: the status,
  how long the answer took, and what the edge's memory did meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load import LoadDriver, SeatPool, summary_ms
from bench.scenarios import uniform_holds
from tests.api_client import hold_body


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _hold_request(body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = b"POST /reservations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(payload) + payload


async def burst(api: LoadDriver, url: str, tag: str, connections: int = 1000) -> dict[str, Any]:
    session_id, seats = await api.create_session(f"bench {tag} burst", 16)
    host, port = _address(url)
    go = asyncio.Event()

    async def one(n: int) -> tuple[str, float]:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            return f"refused ({type(exc).__name__})", 0.0
        await go.wait()
        started = time.perf_counter()
        try:
            writer.write(_hold_request(hold_body(session_id, [seats[0]], f"burst-{tag}-{n}")))
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 60)
            return (
                status_line.split()[1].decode() if status_line else "closed unanswered"
            ), time.perf_counter() - started
        except TimeoutError:
            return "unanswered in 60 s", time.perf_counter() - started
        except OSError as exc:
            return f"reset ({type(exc).__name__})", time.perf_counter() - started
        finally:
            writer.close()

    tasks = [asyncio.create_task(one(n)) for n in range(connections)]
    await asyncio.sleep(2.0)  # every connection is open (or refused) before any request leaves
    started = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    statuses = Counter(status for status, _ in results)
    answered = [latency for status, latency in results if status.isdigit()]
    return {
        "sessions": [session_id],
        "connections": connections,
        "statuses": dict(sorted(statuses.items())),
        "refused_or_reset": sum(n for status, n in statuses.items() if not status.isdigit()),
        "exactly_one_201": statuses.get("201", 0) == 1,
        "all_others_409": statuses.get("409", 0) == connections - 1,
        "elapsed_s": elapsed,
        "latency_ms": summary_ms(answered),
    }


async def slow_clients(
    api: LoadDriver, url: str, pool: SeatPool, tag: str, *, idle: int = 300, slowloris: int = 50, duration: float = 6.0
) -> dict[str, Any]:
    host, port = _address(url)
    opened = time.perf_counter()
    closed_after: list[float] = []

    async def idle_client() -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return
        try:
            if await asyncio.wait_for(reader.read(1), 120) == b"":
                closed_after.append(time.perf_counter() - opened)
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    async def slowloris_client() -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return
        request = b"GET /sessions HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"a" * 500
        try:
            for byte in request:
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                        closed_after.append(time.perf_counter() - opened)
                        return
                except TimeoutError:
                    continue
        except OSError:
            closed_after.append(time.perf_counter() - opened)
        finally:
            writer.close()

    slow = [asyncio.create_task(idle_client()) for _ in range(idle)]
    slow += [asyncio.create_task(slowloris_client()) for _ in range(slowloris)]
    await asyncio.sleep(1.0)
    load = await uniform_holds(api, pool, tag, concurrency=16, duration=duration)
    _, pending = await asyncio.wait(slow, timeout=60)
    for task in pending:
        task.cancel()
    return {
        "idle_connections": idle,
        "slowloris_connections": slowloris,
        "closed_by_edge": len(closed_after),
        "closed_after_s": summary_ms([c / 1000 for c in closed_after]) if closed_after else {},
        "load_holds_per_s": load["holds_per_s"],
        "load_latency_ms": load["latency_ms"],
        "load_statuses": load["statuses"],
    }


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _exchange(host: str, port: int, head: bytes, body_bytes: int = 0, timeout: float = 10.0) -> tuple[str, float]:
    """Send ``head`` then up to ``body_bytes`` of body; the answer's status and how long it took."""
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head)
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < body_bytes:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the edge answered and closed while we were still sending
        try:
            answer = sock.recv(200)
        except OSError as exc:
            return f"no answer ({type(exc).__name__})", time.perf_counter() - started
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "no answer"
    return status, time.perf_counter() - started


def limits(url: str, edge_pids: list[int]) -> dict[str, Any]:
    host, port = _address(url)
    post = b"POST /reservations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    before = _rss_mb(edge_pids)
    big_status, big_seconds = _exchange(host, port, post + b"Content-Length: 67108864\r\n\r\n", 64 * 1024 * 1024)
    after = _rss_mb(edge_pids)
    huge_status, huge_seconds = _exchange(host, port, post + b"Content-Length: 99999999999\r\n\r\n{")
    bad = {
        name: _exchange(host, port, post + header + b"\r\n{}")[0]
        for name, header in (
            ("not a number", b"Content-Length: abc\r\n"),
            ("negative", b"Content-Length: -1\r\n"),
            ("two different", b"Content-Length: 2\r\nContent-Length: 3\r\n"),
        )
    }
    return {
        "body_64mb": {"status": big_status, "seconds": round(big_seconds, 3)},
        "edge_rss_mb_before_after": [round(before, 1), round(after, 1)],
        "content_length_99999999999": {"status": huge_status, "seconds": round(huge_seconds, 3)},
        "bad_content_length": bad,
    }
