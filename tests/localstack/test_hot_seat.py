"""The hot-seat race through API Gateway: 200 simultaneous holds of one seat, one winner.

LocalStack gives every concurrent request an execution environment; the host runtime
serves them with a few warm processes of the API function (LAMBDA_HOST_MAX_PROCESSES), so
the requests really run concurrently against PostgreSQL and Redis."""

from __future__ import annotations

from collections import Counter

from tests.api_client import ApiClient
from tests.helpers import db_rows, seat_holders
from tests.localstack.support import TopicReader


def test_200_simultaneous_holds_of_one_seat_have_exactly_one_winner(driver: ApiClient, kafka: TopicReader):
    session = driver.new_session()
    seat = driver.seats(session["id"])[0]
    results = driver.burst(
        [("POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], f"hot-{i}")) for i in range(200)]
    )
    counts = Counter(status for status, _, _ in results)
    assert counts == Counter({201: 1, 409: 199}), (counts, [body for status, body, _ in results if status >= 500][:3])
    winner = next(body for status, body, _ in results if status == 201)
    assert {body["statusCode"] for status, body, _ in results if status == 409} == {409}

    held = driver.seats(session["id"])[0]
    assert held["status"] == "reserved" and seat_holders([seat["id"]]) == {seat["id"]: winner["id"]}
    assert db_rows("SELECT id::text, user_id FROM reservations WHERE session_id = %s", (session["id"],)) == [
        {"id": winner["id"], "user_id": winner["userId"]}
    ]
    events = kafka.events_of(session["id"], lambda found: bool(found))
    assert [(e["type"], e["reservationId"]) for e in events] == [("reservation.created", winner["id"])]
