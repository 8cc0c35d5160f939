"""The booking flow through API Gateway and the API function: sessions, holds, payment and
cancellation, checked over HTTP, in the database the functions use, and on Kafka."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from tests.api_client import ApiClient
from tests.helpers import db_rows
from tests.localstack.support import Deployment, TopicReader


def test_the_programme_answers_without_a_token(stack: Deployment, driver: ApiClient):
    """The local stage is packaged with AUTH_MODE=off: no authorizer on the routes."""
    status, sessions, _ = driver.get("/sessions")
    assert status == 200, sessions
    assert isinstance(sessions, list)
    status, health, _ = driver.get("/health")
    assert status == 200 and health["status"] == "ok", health
    if stack.endpoint_url:  # and API Gateway has no authorizer on any method
        apigateway = stack.client("apigateway")
        api_id = re.search(r"/(?:restapis|_aws/execute-api)/([^/]+)/", stack.api_url + "/").group(1)
        resources = apigateway.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"]
        methods = {
            (resource["path"], verb): method.get("authorizationType")
            for resource in resources
            for verb, method in (resource.get("resourceMethods") or {}).items()
        }
        assert ("/reservations", "POST") in methods and ("/sessions", "GET") in methods
        assert set(methods.values()) == {"NONE"}, methods


def test_full_booking_flow(stack: Deployment, driver: ApiClient, kafka: TopicReader, user: str):
    session = driver.new_session(totalSeats=20, ticketPrice="12.50")
    assert driver.get(f"/sessions/{session['id']}")[:2] == (200, session)
    seats = driver.seats(session["id"])
    assert len(seats) == 20 and {s["status"] for s in seats} == {"available"}

    # Hold two seats, pay for them.
    status, paid, _ = driver.hold(session["id"], [seats[0]["id"], seats[1]["id"]], user)
    assert status == 201 and paid["status"] == "pending", paid
    status, live, _ = driver.request("GET", f"/reservations/{paid['id']}")
    assert status == 200 and live["status"] == "pending" and 0 < live["remainingSeconds"] <= 30, live
    status, sale, _ = driver.request("POST", "/sales", {"reservationId": paid["id"]})
    assert status == 201, sale
    assert sale["amount"] == "25.00" and sale["reservationId"] == paid["id"] and sale["userId"] == user

    # Hold a third seat, cancel it.
    status, cancelled, _ = driver.hold(session["id"], [seats[2]["id"]], user)
    assert status == 201, cancelled
    assert driver.request("DELETE", f"/reservations/{cancelled['id']}")[0] == 204
    assert driver.request("GET", f"/reservations/{cancelled['id']}")[1]["status"] == "cancelled"

    # What the seat map, the user's sales and the database say.
    statuses = [s["status"] for s in driver.seats(session["id"])[:4]]
    assert statuses == ["sold", "sold", "available", "available"]
    status, sales, _ = driver.request("GET", f"/sales/user/{user}")
    assert status == 200 and [s["id"] for s in sales] == [sale["id"]]
    rows = db_rows(
        "SELECT id::text, status FROM reservations WHERE session_id = %s ORDER BY created_at", (session["id"],)
    )
    assert rows == [{"id": paid["id"], "status": "confirmed"}, {"id": cancelled["id"], "status": "cancelled"}]
    assert db_rows("SELECT amount::text AS amount FROM sales WHERE id = %s", (sale["id"],)) == [{"amount": "25.00"}]
    assert db_rows(
        "SELECT seat_number, status FROM seats WHERE session_id = %s AND position <= 3 ORDER BY position",
        (session["id"],),
    ) == [
        {"seat_number": "A1", "status": "sold"},
        {"seat_number": "A2", "status": "sold"},
        {"seat_number": "A3", "status": "available"},
    ]

    # One event per state change, in commit order, on the session's key.
    expected = Counter({"reservation.created": 2, "sale.confirmed": 1, "reservation.cancelled": 1, "seat.released": 1})
    events = kafka.events_of(session["id"], lambda found: Counter(e["type"] for e in found) >= expected)
    assert Counter(e["type"] for e in events) == expected, events
    assert len({e["eventId"] for e in events}) == len(events)
    confirmed = next(e for e in events if e["type"] == "sale.confirmed")
    assert confirmed["reservationId"] == paid["id"] and confirmed["amount"] == "25.00"
    outbox = db_rows(
        "SELECT event_id::text, published_at FROM outbox WHERE message_key = %s ORDER BY id", (session["id"],)
    )
    assert [r["event_id"] for r in outbox] == [e["eventId"] for e in events]
    assert all(r["published_at"] for r in outbox)


def test_payment(stack: Deployment, driver: ApiClient, kafka: TopicReader, user: str):
    session = driver.new_session(totalSeats=16, ticketPrice="19.99")
    seats = driver.seats(session["id"])
    status, reservation, _ = driver.hold(session["id"], [s["id"] for s in seats[:3]], user)
    assert status == 201, reservation

    status, sale, _ = driver.request("POST", "/sales", {"reservationId": reservation["id"]})
    assert status == 201, sale
    assert sale["amount"] == "59.97" and sale["seatNumbers"] == ["A1", "A2", "A3"]
    assert driver.request("GET", f"/sales/{sale['id']}")[:2] == (200, sale)
    # Paid once only.
    status, error, _ = driver.request("POST", "/sales", {"reservationId": reservation["id"]})
    assert status == 400 and "confirmed" in error["message"], error
    assert driver.request("GET", f"/reservations/{reservation['id']}")[1]["status"] == "confirmed"
    assert db_rows("SELECT count(*) AS n FROM sales WHERE reservation_id = %s", (reservation["id"],)) == [{"n": 1}]
    assert db_rows("SELECT count(*) AS n FROM sale_seats WHERE sale_id = %s", (sale["id"],)) == [{"n": 3}]
    # A sold seat cannot be held again.
    assert driver.hold(session["id"], [seats[0]["id"]], f"{user}-late")[0] == 409

    events = kafka.events_of(session["id"], lambda found: any(e["type"] == "sale.confirmed" for e in found))
    assert [e["type"] for e in events] == ["reservation.created", "sale.confirmed"], events
    assert events[1]["amount"] == "59.97" and sorted(events[1]["seatIds"]) == sorted(reservation["seatIds"])


def test_cancellation(stack: Deployment, driver: ApiClient, kafka: TopicReader, user: str):
    session = driver.new_session(totalSeats=16)
    seats = driver.seats(session["id"])
    status, reservation, _ = driver.hold(session["id"], [seats[5]["id"], seats[6]["id"]], user)
    assert status == 201, reservation
    assert [s["status"] for s in driver.seats(session["id"])[5:7]] == ["reserved", "reserved"]

    assert driver.request("DELETE", f"/reservations/{reservation['id']}")[0] == 204
    assert [s["status"] for s in driver.seats(session["id"])[5:7]] == ["available", "available"]
    # Not twice, and a cancelled hold cannot be paid.
    assert driver.request("DELETE", f"/reservations/{reservation['id']}")[0] == 400
    status, error, _ = driver.request("POST", "/sales", {"reservationId": reservation["id"]})
    assert status == 400 and "cancelled" in error["message"], error
    # The released seats are free for the next customer.
    assert driver.hold(session["id"], [seats[5]["id"]], f"{user}-next")[0] == 201

    row = db_rows("SELECT status, updated_at FROM reservations WHERE id = %s", (reservation["id"],))[0]
    assert row["status"] == "cancelled" and row["updated_at"] <= datetime.now(UTC)
    expected = Counter({"reservation.created": 2, "reservation.cancelled": 1, "seat.released": 1})
    events = kafka.events_of(session["id"], lambda found: Counter(e["type"] for e in found) >= expected)
    assert Counter(e["type"] for e in events) == expected, events
    released = next(e for e in events if e["type"] == "seat.released")
    assert sorted(released["seatIds"]) == sorted(reservation["seatIds"])
