"""Payments (sales) through the Chalice handlers."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import db_rows


@pytest.fixture
def session(api):
    return api.new_session(totalSeats=20, ticketPrice="19.99")


def test_paying_a_hold_sells_its_seats(api, session):
    seats = api.seats(session["id"])
    _, reservation, _ = api.hold(session["id"], [s["id"] for s in seats[:3]], user="carol")
    status, sale, _ = api.post("/sales", {"reservationId": reservation["id"]})
    assert status == 201, sale
    assert sale["amount"] == "59.97"
    assert sale["reservationId"] == reservation["id"] and sale["sessionId"] == session["id"]
    assert sale["seatIds"] == reservation["seatIds"] and sale["seatNumbers"] == ["A1", "A2", "A3"]
    assert sale["userId"] == "carol" and sale["userEmail"] == "carol@example.com"

    assert [s["status"] for s in api.seats(session["id"])[:4]] == ["sold", "sold", "sold", "available"]
    assert api.get(f"/reservations/{reservation['id']}")[1]["status"] == "confirmed"
    assert api.get(f"/sales/{sale['id']}")[1] == sale
    stored = db_rows("SELECT amount::text AS amount FROM sales WHERE id = %s", (sale["id"],))
    assert stored == [{"amount": "59.97"}]


def test_price_is_the_one_in_force_when_the_seats_were_held(api, session):
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    assert api.patch(f"/sessions/{session['id']}", {"ticketPrice": "99.00"})[0] == 200
    assert api.post("/sales", {"reservationId": reservation["id"]})[1]["amount"] == "19.99"


def test_a_reservation_is_paid_once(api, session):
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    assert api.post("/sales", {"reservationId": reservation["id"]})[0] == 201
    status, error, _ = api.post("/sales", {"reservationId": reservation["id"]})
    assert status == 400 and "confirmed" in error["message"]
    assert len(db_rows("SELECT 1 FROM sales WHERE reservation_id = %s", (reservation["id"],))) == 1


def test_cancelled_reservation_cannot_be_paid(api, session):
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    api.delete(f"/reservations/{reservation['id']}")
    status, error, _ = api.post("/sales", {"reservationId": reservation["id"]})
    assert status == 400 and "cancelled" in error["message"]


def test_unknown_and_invalid(api):
    assert api.post("/sales", {"reservationId": str(uuid.uuid4())})[0] == 404
    assert api.post("/sales", {"reservationId": "nope"})[0] == 400
    assert api.post("/sales", {"reservationId": str(uuid.uuid4()), "amount": "1.00"})[0] == 400
    assert api.post("/sales", {})[0] == 400
    assert api.get(f"/sales/{uuid.uuid4()}")[0] == 404
    assert api.get("/sales/xyz")[0] == 400


def test_purchase_history_is_newest_first(api, session):
    user = f"user-{uuid.uuid4()}"
    seats = api.seats(session["id"])
    sale_ids = []
    for seat in seats[:3]:
        _, reservation, _ = api.hold(session["id"], [seat["id"]], user=user)
        sale_ids.append(api.post("/sales", {"reservationId": reservation["id"]})[1]["id"])
    status, history, _ = api.get(f"/sales/user/{user}")
    assert status == 200
    assert [s["id"] for s in history] == list(reversed(sale_ids))
    assert api.get("/sales/user/nobody-" + str(uuid.uuid4()))[1] == []


def test_idempotent_payment_replays(api, session):
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/sales", {"reservationId": reservation["id"]}, headers=key)
    again = api.post("/sales", {"reservationId": reservation["id"]}, headers=key)
    assert first[0] == again[0] == 201 and first[1] == again[1]
