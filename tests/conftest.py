"""Shared test setup. Tests run against the real PostgreSQL, Redis and Kafka started by
``make test`` (python -m infra.services up), in a database and Redis db of their own."""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgresql://cinema:cinema@127.0.0.1:54329/cinema_test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:63799/15")
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
