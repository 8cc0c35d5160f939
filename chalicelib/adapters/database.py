"""PostgreSQL connection pool and the transaction boundary every repository works inside."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from chalicelib.domain.errors import Conflict, Unavailable
from chalicelib.observability import logger

Cursor = psycopg.Cursor[dict]


def _check_at_checkout(conn: psycopg.Connection) -> None:
    """Pool checkout check that costs no round trip on the hot path.

    A healthy idle connection has nothing to read. A backend that went away (restart,
    ``pg_terminate_backend``, failover with a clean close) has sent its goodbye or closed the
    socket, which makes the socket readable: only then is a real round trip paid, and it
    raises for a dead connection so the pool discards it and hands out another. A peer that
    vanished without a word is caught by the TCP keepalives instead.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("connection is closed")
    readiness = select.poll()
    readiness.register(conn.fileno(), select.POLLIN)
    if readiness.poll(0):
        ConnectionPool.check_connection(conn)


class Database:
    """Owns one pool per process; warm Lambda invocations reuse its connections."""

    def __init__(
        self, url: str, *, min_size: int, max_size: int, statement_timeout_ms: int, lock_timeout_ms: int
    ) -> None:
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={
                "row_factory": dict_row,
                "options": (
                    f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms} -c TimeZone=UTC"
                ),
                "connect_timeout": 3,
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
            # A backend that closed on us (restart, pg_terminate_backend) is noticed at
            # checkout, not half-way through a booking.
            check=_check_at_checkout,
            timeout=5,
            name="cinema",
        )
        self._opened = False

    def _ensure_open(self) -> None:
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True

    def wait_ready(self, timeout_seconds: float) -> None:
        """Open the pool now and wait until its minimum number of connections is up."""
        self._ensure_open()
        self._pool.wait(timeout_seconds)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One database transaction: committed when the block ends, rolled back if it raises.

        Lock waits that time out become ``Conflict`` (the row is busy); an unreachable
        database becomes ``Unavailable``. Neither ever surfaces as a 500.
        """
        self._ensure_open()
        with (
            _domain_errors(),
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            yield cur

    @contextmanager
    def autocommit(self) -> Iterator[Cursor]:
        """A cursor whose statements each commit on their own: one round trip instead of three
        for a single write that needs no transaction around it. Errors map as in
        ``transaction``."""
        self._ensure_open()
        with _domain_errors(), self._pool.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor(row_factory=dict_row) as cur:
                    yield cur
            finally:
                try:
                    conn.autocommit = False
                except psycopg.Error:
                    conn.close()  # never hand the pool a connection left in autocommit mode

    def ping(self) -> None:
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        if self._opened:
            self._pool.close()
            self._opened = False


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as exc:
        raise Conflict("the requested rows are busy; try again") from exc
    except PoolTimeout as exc:
        raise Unavailable("database connection pool exhausted") from exc
    except psycopg.OperationalError as exc:
        logger.warning("database unavailable: %s", exc)
        raise Unavailable("database unavailable") from exc
