"""Redis is a fast-fail gate, never the guarantee: with its data flushed mid-burst or the
server gone, PostgreSQL still lets exactly one request win each seat.

These tests run their own API processes against a private Redis so they can break it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.api_client import ApiClient, OverHttp
from tests.e2e.conftest import api_instances

pytestmark = pytest.mark.slow


def hot_seat_burst(driver: ApiClient, attempts: int = 200):
    session = driver.new_session()
    seat = driver.seats(session["id"])[0]
    results = driver.burst(
        [("POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], f"u{i}")) for i in range(attempts)]
    )
    return session, seat, Counter(status for status, _, _ in results)


def test_flushing_redis_during_bursts_never_double_holds(private_redis):
    with api_instances(4, REDIS_URL=private_redis.url) as urls:
        driver = ApiClient(OverHttp(urls))
        stop = threading.Event()

        def flush_repeatedly() -> None:
            client = private_redis.client()
            while not stop.is_set():
                client.flushall()
                time.sleep(0.001)

        flusher = threading.Thread(target=flush_repeatedly)
        flusher.start()
        try:
            outcomes = [hot_seat_burst(driver)[2] for _ in range(3)]
        finally:
            stop.set()
            flusher.join()
    for counts in outcomes:
        assert counts == Counter({201: 1, 409: 199}), counts


def test_with_redis_down_postgres_alone_decides_and_health_names_redis(private_redis):
    with api_instances(4, REDIS_URL=private_redis.url) as urls:
        driver = ApiClient(OverHttp(urls))
        assert driver.get("/health").status == 200
        private_redis.stop()

        status, health, _ = driver.get("/health")
        assert status == 503
        assert health["down"] == ["redis"]
        assert health["checks"]["postgres"] == "up"

        for _ in range(3):
            session, _seat, counts = hot_seat_burst(driver)
            assert counts == Counter({201: 1, 409: 199}), counts
        # The API keeps serving the whole flow without Redis, idempotency keys included.
        status, reservation, _ = driver.request(
            "POST",
            "/reservations",
            driver.hold_body(session["id"], [driver.seats(session["id"])[5]["id"]], "no-redis"),
            headers={"Idempotency-Key": "while-redis-is-down"},
        )
        assert status == 201, reservation
        assert driver.request("POST", "/sales", {"reservationId": reservation["id"]})[0] == 201
        assert driver.request("GET", f"/reservations/{reservation['id']}")[1]["status"] == "confirmed"

        private_redis.start()
        deadline = time.monotonic() + 15
        while driver.get("/health").status != 200:
            assert time.monotonic() < deadline, "health did not recover after redis came back"
            time.sleep(0.5)
