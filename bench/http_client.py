"""A lean HTTP/1.1 keep-alive client for the load driver.

The driver shares the machine's 2 cores with everything it measures, so its own CPU per
request caps what a benchmark can show: aiohttp cost about 1 ms per request, httpx 2.5-3 ms.
This client writes a request in one ``write`` and reads the answer with ``readuntil`` and
``readexactly`` on asyncio streams, about a tenth of that. It speaks only what the API
answers (``Content-Length`` bodies, keep-alive), and never retries: a refused or reset
connection is reported to the caller as it happened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server's answer is not an HTTP/1.1 response this client understands."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass
class HttpConnectionPool:
    """Keep-alive connections to one origin, at most ``limit`` at a time."""

    base_url: str
    limit: int = 64
    timeout: float = 30.0
    _idle: list[_Connection] = field(default_factory=list)
    _slots: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body). Raises OSError (connection refused or reset, IncompleteReadError
        included), TimeoutError, or ProtocolError."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                status, payload, keep = await asyncio.wait_for(
                    self._exchange(connection, method, path, body), self.timeout
                )
            except BaseException:
                connection.writer.close()
                raise
            if keep:
                self._idle.append(connection)
            else:
                connection.writer.close()
            return status, payload

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, method: str, path: str, body: bytes | None
    ) -> tuple[int, bytes, bool]:
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(), self._host_header)
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        connection.writer.write(head + b"\r\n" + (body or b""))
        try:
            raw_head = await connection.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetError("connection closed before an answer") from exc
        lines = raw_head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise ProtocolError(f"bad status line {lines[0][:80]!r}") from exc
        length = 0
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
            elif name == b"transfer-encoding":
                raise ProtocolError("chunked answers are not supported")
        payload = await connection.reader.readexactly(length) if length else b""
        return status, payload, keep

    async def close(self) -> None:
        for connection in self._idle:
            connection.writer.close()
        self._idle.clear()
