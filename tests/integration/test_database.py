"""The pool's checkout check: a backend that went away while its connection sat idle in the
pool is noticed at checkout and replaced, so the next transaction does not fail."""

from __future__ import annotations

import time
from contextlib import ExitStack

from chalicelib.adapters.database import Database
from chalicelib.config import get_settings
from tests.helpers import db_rows


def backend_pids(db: Database, count: int) -> set[int]:
    """Open ``count`` connections at once and return their backend pids."""
    pids: set[int] = set()
    with ExitStack() as stack:
        for _ in range(count):
            cur = stack.enter_context(db.transaction())
            cur.execute("SELECT pg_backend_pid() AS pid")
            pids.add(cur.fetchone()["pid"])
    return pids


def test_a_terminated_idle_connection_is_replaced_at_checkout():
    settings = get_settings()
    db = Database(settings.database_url, min_size=3, max_size=3, statement_timeout_ms=5000, lock_timeout_ms=2000)
    try:
        db.wait_ready(10)
        idle = backend_pids(db, 3)
        assert len(idle) == 3
        terminated = db_rows("SELECT pg_terminate_backend(pid) AS done FROM unnest(%s::int[]) AS pid", (list(idle),))
        assert all(row["done"] for row in terminated)
        time.sleep(0.2)  # let the backends' goodbyes reach the client sockets

        for _ in range(6):  # every pooled connection is dead: each checkout must replace one
            with db.transaction() as cur:
                cur.execute("SELECT pg_backend_pid() AS pid")
                assert cur.fetchone()["pid"] not in idle
        with db.autocommit() as cur:
            cur.execute("SELECT 1 AS one")
            assert cur.fetchone()["one"] == 1
    finally:
        db.close()
