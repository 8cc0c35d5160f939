"""PostgreSQL connection pool and the transaction boundary every repository works inside."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from chalicelib.domain.errors import Conflict, Unavailable

logger = logging.getLogger(__name__)

Cursor = psycopg.Cursor[dict]


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
            },
            # A backend killed under us (failover, pg_terminate_backend) is noticed at checkout,
            # not half-way through a booking.
            check=ConnectionPool.check_connection,
            timeout=5,
            name="cinema",
        )
        self._opened = False

    def _ensure_open(self) -> None:
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One database transaction: committed when the block ends, rolled back if it raises.

        Lock waits that time out become ``Conflict`` (the row is busy); an unreachable
        database becomes ``Unavailable``. Neither ever surfaces as a 500.
        """
        self._ensure_open()
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                yield cur
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as exc:
            raise Conflict("the requested rows are busy; try again") from exc
        except PoolTimeout as exc:
            raise Unavailable("database connection pool exhausted") from exc
        except psycopg.OperationalError as exc:
            logger.warning("database unavailable: %s", exc)
            raise Unavailable("database unavailable") from exc

    def ping(self) -> None:
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        if self._opened:
            self._pool.close()
            self._opened = False
