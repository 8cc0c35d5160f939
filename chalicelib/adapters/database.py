"""PostgreSQL connection pool and the transaction boundary every repository works inside."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from chalicelib.domain.errors import Conflict, InvalidRequest, Unavailable
from chalicelib.observability import logger, traced

Cursor = psycopg.Cursor[dict]

# How long a request waits for a connection before it answers 503. Each process serves one
# request at a time, so a wait is never for a busy pool: it is for a database that does not
# answer, and the client is better told so at once than held for long.
CHECKOUT_TIMEOUT_SECONDS = 2.0
# psycopg_pool retries a failed connect with a doubling delay (1 s, 2 s, 4 s...) and no cap
# until ``reconnect_timeout``; left at its 5 minutes, the retry after a long outage came tens
# of seconds after PostgreSQL was back. Giving up after a second instead makes the next
# request start a fresh attempt at once, so recovery follows the database within about 1 s.
RECONNECT_WINDOW_SECONDS = 1.0


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
            check=self._check_at_checkout,
            timeout=CHECKOUT_TIMEOUT_SECONDS,
            reconnect_timeout=RECONNECT_WINDOW_SECONDS,
            name="cinema",
        )
        self._opened = False

    def _check_at_checkout(self, conn: psycopg.Connection) -> None:
        try:
            _check_at_checkout(conn)
        except psycopg.Error:
            # A restart closes every idle connection at once. The pool retries a checkout that
            # failed its check after 0 s, then 1 s, 2 s...: one dead connection per step would
            # outlast the checkout timeout. Sweep the others now, then let it retry.
            self._pool.check()
            raise

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
            traced("PostgreSQL"),
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
        with traced("PostgreSQL"), _domain_errors(), self._pool.connection() as conn:
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
    except psycopg.DataError as exc:
        # A value validation let through (a NUL byte, a number out of a column's range): the
        # request's fault, never a 500.
        logger.warning("database refused a value: %s", exc)
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InvalidRequest(f"the request holds a value the database cannot store: {reason}") from exc
    except PoolTimeout as exc:
        raise Unavailable(f"no database connection within {CHECKOUT_TIMEOUT_SECONDS:g} s") from exc
    except psycopg.OperationalError as exc:
        logger.warning("database unavailable: %s", exc)
        raise Unavailable("database unavailable") from exc
