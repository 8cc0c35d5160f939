"""Shared test setup. Tests run against the real PostgreSQL, Redis and Kafka started by
``make test`` (python -m infra.services up), in a database and a Redis db of their own
(TEST_DATABASE_URL and TEST_REDIS_URL override them), migrated when the session starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chalicelib.config import local_services

_local = local_services()
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or _local.database_url("cinema_test")
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL") or _local.redis_url(15)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
# Quiet, as under make run: no EMF lines unless a test turns metrics on. Powertools reads the
# service and the namespace when app is imported (Lambda and the local gateway set a stage's
# variables before that; chalice.test.Client only around each invocation).
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "cinema-ticketing")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CinemaTicketing/local")
# The spec-compatible default for most tests; the auth tests switch to AUTH_MODE=jwt.
os.environ.setdefault("AUTH_MODE", "off")
# Every test shares one source IP and a few user names; the abuse-limit tests lower these.
os.environ.setdefault("RATE_LIMIT_PER_IP", "100000000")
os.environ.setdefault("RATE_LIMIT_PER_USER", "100000000")
os.environ.setdefault("MAX_HELD_SEATS_PER_USER", "100000")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Migrate the test database, unless only unit tests run (they need no service at all)."""
    unit = Path(__file__).resolve().parent / "unit"
    if any(unit not in Path(item.path).parents for item in session.items):
        from chalicelib.jobs.migrate import apply_migrations

        apply_migrations(os.environ["DATABASE_URL"])
