"""The HTTP edge of ``make run`` (nginx in front of the API processes), seen from a client: an
oversized body is refused from its Content-Length before it is read, a malformed length is a
400, slow and idle clients are closed, and a burst of simultaneous connections is answered in
full. Every answer is checked on the wire, with nothing retried."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import time
from collections import Counter
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api_client import ApiClient, OverHttp
from tests.e2e.conftest import api_instances

HEADER_TIMEOUT = 2


@pytest.fixture(scope="module")
def edge_url() -> Iterator[str]:
    with api_instances(4, EDGE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT), EDGE_IDLE_TIMEOUT_SECONDS="3") as (url,):
        yield url


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _answer(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), json.loads(rest) if rest else {}


def _edge_rss_kb(port: int) -> int:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes()
            if b"nginx" in cmdline or (b"edge-%d" % port) in cmdline:
                total += int(
                    next(line for line in status.read_text().splitlines() if line.startswith("VmRSS")).split()[1]
                )
        except (OSError, StopIteration):
            continue
    return total


POST = b"POST /reservations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


def test_a_body_over_the_limit_is_refused_from_its_length_before_it_is_read(edge_url):
    host, port = _address(edge_url)
    with socket.create_connection((host, port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(POST + b"Content-Length: 99999999999\r\n\r\n{")
        status, body = _answer(sock)
        assert time.monotonic() - started < 2
    assert status == 413
    # The phrase the app itself answers a 413 with (tests.helpers.assert_error_shape).
    phrase = HTTPStatus(413).phrase
    assert body == {"statusCode": 413, "error": phrase, "message": "request body larger than 16384 bytes"}


def test_a_64_mb_body_is_refused_with_bounded_memory(edge_url):
    host, port = _address(edge_url)
    before = _edge_rss_kb(port)
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(POST + b"Content-Length: 67108864\r\n\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(1024):
                sock.sendall(chunk)
        except OSError:
            pass  # the edge answered and stopped reading
        status, _ = _answer(sock)
    assert status == 413
    assert _edge_rss_kb(port) - before < 8 * 1024  # kB: far below the 64 MB sent


@pytest.mark.parametrize(
    "header", [b"Content-Length: abc\r\n", b"Content-Length: -1\r\n", b"Content-Length: 2\r\nContent-Length: 3\r\n"]
)
def test_a_malformed_content_length_is_a_400_in_the_error_shape(edge_url, header):
    host, port = _address(edge_url)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(POST + header + b"\r\n{}")
        status, body = _answer(sock)
    assert status == 400
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"


def _closed_after(sock: socket.socket, trickle: bytes | None, limit: float) -> float | None:
    """Seconds until the server closes ``sock`` (sending ``trickle`` a byte a second), or None."""
    started = time.monotonic()
    sock.settimeout(1.0)
    for index in range(int(limit)):
        if trickle is not None and index < len(trickle):
            sock.send(trickle[index : index + 1])
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def test_idle_and_slow_clients_are_closed_while_others_are_served(edge_url):
    host, port = _address(edge_url)
    idle = [socket.create_connection((host, port)) for _ in range(20)]
    slow = socket.create_connection((host, port))
    try:
        # Meanwhile the API answers everyone else.
        assert ApiClient(OverHttp([edge_url])).request("GET", "/sessions?limit=1")[0] == 200
        slow_closed = _closed_after(slow, b"GET /sessions HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa", 10)
        idle_closed = [_closed_after(sock, None, 10) for sock in idle[:3]]
    finally:
        for sock in [*idle, slow]:
            sock.close()
    assert slow_closed is not None and slow_closed < HEADER_TIMEOUT + 2
    assert all(closed is not None for closed in idle_closed)


def test_a_thousand_simultaneous_holds_of_one_seat_are_all_answered(base_urls):
    # The default edge (10 s header timeout): this module's 2 s one is for the slow clients above.
    edge_url = base_urls[0]
    # A thousand client sockets in this one process: raise its own soft limit of open files.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    driver = ApiClient(OverHttp([edge_url]))
    session = driver.new_session(totalSeats=16)
    seat = driver.seats(session["id"])[0]["id"]
    host, port = _address(edge_url)

    async def burst() -> Counter:
        go = asyncio.Event()
        opened = 0

        async def one(n: int) -> str:
            nonlocal opened
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                return f"refused: {exc!r}"
            finally:
                opened += 1
                if opened == 1000:
                    go.set()  # every connection is open (or refused): all requests leave now
            await go.wait()
            body = json.dumps(ApiClient.hold_body(session["id"], [seat], f"burst-{n}")).encode()
            try:
                writer.write(POST + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 60)
                return line.split()[1].decode() if line else "closed unanswered"
            except (OSError, TimeoutError) as exc:
                return f"failed: {exc!r}"
            finally:
                writer.close()

        return Counter(await asyncio.gather(*(one(n) for n in range(1000))))

    outcome = asyncio.run(burst())
    assert outcome == {"201": 1, "409": 999}
