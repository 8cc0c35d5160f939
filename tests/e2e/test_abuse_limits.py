"""The held-seat cap holds under concurrency: 50 simultaneous holds by one user, over two
API processes, never leave that user with more live seats than the cap."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from tests.api_client import ApiClient, OverHttp
from tests.e2e.conftest import api_instances

pytestmark = pytest.mark.slow

CAP = 6


def test_fifty_concurrent_holds_cannot_exceed_the_held_seat_cap():
    with api_instances(2, MAX_HELD_SEATS_PER_USER=str(CAP)) as urls:
        driver = ApiClient(OverHttp(urls))
        session = driver.new_session(totalSeats=60)
        seats = driver.seats(session["id"])
        user = f"greedy-{uuid.uuid4().hex[:8]}"
        results = driver.burst(
            [("POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], user)) for seat in seats[:50]]
        )
        statuses = Counter(status for status, _, _ in results)
        assert statuses == Counter({201: CAP, 409: 50 - CAP}), statuses
        held = [seat for seat in driver.seats(session["id"]) if seat["status"] == "reserved"]
        assert len(held) == CAP
        refused = next(body for status, body, _ in results if status == 409)
        assert f"at most {CAP} seats" in refused["message"]
        # Another user is not affected by the first one's cap.
        status, _, _ = driver.request(
            "POST", "/reservations", driver.hold_body(session["id"], [seats[55]["id"]], "other")
        )
        assert status == 201
