"""What operators see of a booking in CloudWatch: the embedded metrics (EMF) a hold, each kind
of conflict, a sale, a cancellation, a replay and an expiry emit, and the correlation id on a
request's log lines and its answer."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from chalicelib.bootstrap import reset_container
from chalicelib.config import get_settings
from chalicelib.observability import logger

NAMESPACE = "CinemaTicketing/local"


@pytest.fixture
def emf(monkeypatch, capsys) -> Iterator[Any]:
    """Metrics on (as in the AWS stages); ``read()`` returns what was printed since the last
    call as {metric name: [(value, {dimension: value})]}."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    def read() -> dict[str, list[tuple[float, dict[str, str]]]]:
        seen: dict[str, list[tuple[float, dict[str, str]]]] = defaultdict(list)
        for line in capsys.readouterr().out.splitlines():
            if '"_aws"' not in line:
                continue
            blob = json.loads(line)
            [directive] = blob["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            dimensions = {name: blob[name] for name in directive["Dimensions"][0]}
            assert dimensions["service"] == "cinema-ticketing"
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    seen[metric["Name"]].append((value, dimensions))
        return seen

    return read


def total(seen, name: str, **dimension: str) -> float:
    return sum(value for value, dims in seen.get(name, []) if all(dims.get(k) == v for k, v in dimension.items()))


def test_a_hold_and_its_sale_emit_their_metrics(api, emf):
    session = api.new_session(ticketPrice="12.50")
    seats = api.seats(session["id"])
    status, held, _ = api.hold(session["id"], [seats[0]["id"], seats[1]["id"]])
    assert status == 201
    after_hold = emf()
    assert total(after_hold, "Holds") == 1 and total(after_hold, "SeatsHeld") == 2
    assert api.post("/sales", {"reservationId": held["id"]})[0] == 201
    after_sale = emf()
    assert total(after_sale, "Sales") == 1 and total(after_sale, "SeatsSold") == 2
    assert total(after_sale, "Revenue") == 25.0


def test_each_kind_of_hold_conflict_is_counted_by_its_cause(api, emf, monkeypatch):
    session = api.new_session()
    seats = api.seats(session["id"])
    assert api.hold(session["id"], [seats[0]["id"]], user="first")[0] == 201
    emf()
    # The Redis gate turns the next one away...
    assert api.hold(session["id"], [seats[0]["id"]], user="second")[0] == 409
    assert total(emf(), "HoldConflicts", cause="gate") == 1
    # ...and without the gate (Redis flushed), PostgreSQL does.
    redis.Redis.from_url(get_settings().redis_url).delete(f"lock:seat:{seats[0]['id']}")
    assert api.hold(session["id"], [seats[0]["id"]], user="second")[0] == 409
    assert total(emf(), "HoldConflicts", cause="database") == 1
    monkeypatch.setenv("MAX_HELD_SEATS_PER_USER", "1")
    reset_container()
    assert api.hold(session["id"], [seats[1]["id"], seats[2]["id"]], user="third")[0] == 409
    assert total(emf(), "HoldConflicts", cause="cap") == 1


def test_a_cancellation_a_replay_and_an_expiry_emit_their_metrics(api, emf, chalice_client, monkeypatch):
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "1")
    reset_container()
    session = api.new_session()
    seats = api.seats(session["id"])
    _, cancelled, _ = api.hold(session["id"], [seats[0]["id"]])
    assert api.delete(f"/reservations/{cancelled['id']}")[0] == 204
    assert total(emf(), "Cancellations") == 1
    key = {"Idempotency-Key": f"replay-{session['id']}"}
    first = api.hold(session["id"], [seats[1]["id"]], headers=key)
    again = api.hold(session["id"], [seats[1]["id"]], headers=key)
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert total(emf(), "IdempotentReplays") == 1
    time.sleep(1.2)
    event = chalice_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/expiry"]
    )
    swept = chalice_client.lambda_.invoke("expire_reservations", event).payload["expired"]
    assert swept >= 1
    assert total(emf(), "Expiries") == swept


def test_the_relay_reports_the_outbox_backlog_and_its_oldest_age(chalice_client, emf):
    event = chalice_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/relay"]
    )
    result = chalice_client.lambda_.invoke("relay_outbox", event).payload
    seen = emf()
    # What the app stack's OutboxAgeAlarm watches: this namespace, the service dimension only.
    [(age, dimensions)] = seen["OutboxOldestPendingAge"]
    assert dimensions == {"service": "cinema-ticketing"}
    assert age == pytest.approx(result["outboxAgeSeconds"], abs=0.01)
    assert [value for value, _ in seen["OutboxBacklog"]] == [result["outboxBacklog"]]


def test_with_metrics_off_nothing_is_printed(api, capsys):
    capsys.readouterr()
    session = api.new_session()
    api.hold(session["id"], [api.seats(session["id"])[0]["id"]])
    assert '"_aws"' not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("path", "route", "expected"),
    [
        ("/sessions?limit=1", "/sessions", 200),
        ("/sessions/not-a-uuid", "/sessions/{session_id}", 400),
        ("/sessions/00000000-0000-4000-8000-000000000000", "/sessions/{session_id}", 404),
    ],
)
def test_a_request_log_lines_carry_the_correlation_id_the_client_gets_back(api, capsys, path, route, expected):
    # The logger writes to the stdout it found at import: point it at this test's for a while.
    level, handler = logger.log_level, logger.registered_handler
    logger.setLevel("INFO")
    stream = handler.setStream(sys.stdout)
    try:
        capsys.readouterr()
        status, _, headers = api.get(path)
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        handler.setStream(stream)
        logger.setLevel(level)
    assert status == expected
    correlation_id = headers["X-Request-Id"]
    [handled] = [line for line in lines if line.get("message") == "request handled"]
    assert handled["correlation_id"] == correlation_id
    assert handled["service"] == "cinema-ticketing"
    assert handled["function_request_id"] == correlation_id  # the Lambda context is injected
    assert (handled["method"], handled["path"], handled["status"]) == ("GET", route, expected)
