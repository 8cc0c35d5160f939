"""Seat holds through the Chalice handlers, against real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from chalicelib.api.schemas import MAX_SEAT_IDS_IN_REQUEST
from tests.helpers import db_rows, seat_holders


@pytest.fixture
def session(api):
    return api.new_session(totalSeats=20)


def test_hold_answers_the_spec_shape(api, session):
    seats = api.seats(session["id"])
    status, reservation, _ = api.hold(session["id"], [seats[1]["id"], seats[0]["id"]], user="alice")
    assert status == 201, reservation
    assert reservation["status"] == "pending"
    assert reservation["sessionId"] == session["id"]
    assert reservation["seatIds"] == [seats[0]["id"], seats[1]["id"]]
    assert reservation["seatNumbers"] == ["A1", "A2"]
    assert reservation["userId"] == "alice" and reservation["userEmail"] == "alice@example.com"
    created = datetime.fromisoformat(reservation["createdAt"])
    expires = datetime.fromisoformat(reservation["expiresAt"])
    assert (expires - created).total_seconds() == 30
    assert 29 <= reservation["remainingSeconds"] <= 30

    by_number = {s["seatNumber"]: s for s in api.seats(session["id"])}
    assert by_number["A1"]["status"] == by_number["A2"]["status"] == "reserved"
    assert by_number["A1"]["reservationId"] is None  # the public map never says whose hold it is
    assert set(seat_holders(reservation["seatIds"]).values()) == {reservation["id"]}
    assert api.get(f"/sessions/{session['id']}")[1]["availableSeats"] == 18

    status, fetched, _ = api.get(f"/reservations/{reservation['id']}")
    assert status == 200 and fetched["status"] == "pending" and fetched["id"] == reservation["id"]


def test_taken_seat_is_409_and_the_hold_is_all_or_nothing(api, session):
    seats = api.seats(session["id"])
    assert api.hold(session["id"], [seats[0]["id"]], user="alice")[0] == 201
    status, error, _ = api.hold(session["id"], [seats[1]["id"], seats[0]["id"]], user="bob")
    assert status == 409, error
    assert error["error"] == "Conflict"
    # B's partial claim of seat A2 was rolled back.
    assert {s["seatNumber"]: s["status"] for s in api.seats(session["id"])}["A2"] == "available"
    assert db_rows("SELECT 1 FROM reservations WHERE user_id = 'bob' AND session_id = %s", (session["id"],)) == []
    # Bob's refused hold handed its seat gate for A2 back at once: nobody waits for it to lapse.
    status, carol, _ = api.hold(session["id"], [seats[1]["id"]], user="carol")
    assert status == 201, carol


def test_unknown_session_is_404(api):
    status, error, _ = api.hold(str(uuid.uuid4()), [str(uuid.uuid4())])
    assert status == 404, error


def test_seats_of_another_session_are_400(api, session):
    other = api.new_session()
    foreign = api.seats(other["id"])[0]
    own = api.seats(session["id"])[0]
    status, error, _ = api.hold(session["id"], [own["id"], foreign["id"]], user="mixer")
    assert status == 400 and "do not belong" in error["message"]
    # The database refused it after Redis had gated both seats: the gates are handed back.
    status, held, _ = api.hold(session["id"], [own["id"]], user="next")
    assert status == 201, held


@pytest.mark.parametrize(
    ("seat_ids", "expected", "fragment"),
    [
        ([], 400, "at least one"),
        ("dup", 400, "duplicates"),
        ("eleven", 400, "at most 10"),
        (["not-a-uuid"], 400, "seatIds"),
        ("over the request limit", 400, "seatIds"),
        ("over the body limit", 413, "request body larger than"),
    ],
)
def test_bad_seat_lists_are_refused_and_hold_nothing(api, session, seat_ids, expected, fragment):
    seats = api.seats(session["id"])
    if seat_ids == "dup":
        seat_ids = [seats[0]["id"], seats[0]["id"]]
    elif seat_ids == "eleven":
        seat_ids = [s["id"] for s in seats[:11]]
    elif seat_ids == "over the request limit":
        seat_ids = [str(uuid.uuid4()) for _ in range(MAX_SEAT_IDS_IN_REQUEST + 1)]
    elif seat_ids == "over the body limit":
        seat_ids = [str(uuid.uuid4()) for _ in range(5000)]
    status, error, _ = api.hold(session["id"], seat_ids)
    assert status == expected, error
    assert fragment in error["message"], error
    assert {s["status"] for s in api.seats(session["id"])} == {"available"}


@pytest.mark.parametrize(
    "body",
    [
        {"seatIds": [], "userId": "u", "userEmail": "u@example.com"},
        {"sessionId": "x", "seatIds": [], "userId": "u", "userEmail": "u@example.com"},
        {"sessionId": str(uuid.uuid4()), "seatIds": [], "userId": "u", "userEmail": "not-an-email"},
        {"sessionId": str(uuid.uuid4()), "seatIds": "abc", "userId": "u", "userEmail": "u@example.com"},
        {"sessionId": str(uuid.uuid4()), "seatIds": [], "userId": "", "userEmail": "u@example.com"},
        {"sessionId": str(uuid.uuid4()), "seatIds": [], "userId": "u", "userEmail": "u@example.com", "status": "x"},
        {"sessionId": str(uuid.uuid4()), "seatIds": [], "userId": "u", "userEmail": "u@example.com", "expiresAt": "x"},
    ],
)
def test_invalid_reservation_bodies_are_400(api, body):
    status, error, _ = api.post("/reservations", body)
    assert status == 400, error
    assert error["statusCode"] == 400


def test_cancel_releases_the_seats(api, session):
    seats = api.seats(session["id"])
    _, reservation, _ = api.hold(session["id"], [seats[0]["id"], seats[1]["id"]])
    status, body, _ = api.delete(f"/reservations/{reservation['id']}")
    assert status == 204 and body is None
    assert {s["status"] for s in api.seats(session["id"])} == {"available"}
    assert api.get(f"/reservations/{reservation['id']}")[1]["status"] == "cancelled"
    status, error, _ = api.delete(f"/reservations/{reservation['id']}")
    assert status == 400 and "cancelled" in error["message"]
    # The seats can be held again.
    assert api.hold(session["id"], [seats[0]["id"]], user="bob")[0] == 201


def test_cancel_unknown_is_404_and_bad_id_400(api):
    assert api.delete(f"/reservations/{uuid.uuid4()}")[0] == 404
    assert api.delete("/reservations/123")[0] == 400
    assert api.get(f"/reservations/{uuid.uuid4()}")[0] == 404


def test_confirmed_reservation_cannot_be_cancelled(api, session):
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    assert api.post("/sales", {"reservationId": reservation["id"]})[0] == 201
    assert api.delete(f"/reservations/{reservation['id']}")[0] == 400
    assert api.seats(session["id"])[0]["status"] == "sold"


def test_sessions_that_started_cannot_be_held(api, session):
    seat = api.seats(session["id"])[0]
    from tests.helpers import db_execute

    db_execute(
        "UPDATE movie_sessions SET start_time = now() - interval '1 minute', end_time = now() + interval '1 hour'"
        " WHERE id = %s",
        (session["id"],),
    )
    status, error, _ = api.hold(session["id"], [seat["id"]])
    assert status == 400 and "started" in error["message"]


class TestIdempotency:
    def test_same_key_same_body_replays_the_first_answer(self, api, session):
        seat = api.seats(session["id"])[0]
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = api.hold(session["id"], [seat["id"]], headers=key)
        again = api.hold(session["id"], [seat["id"]], headers=key)
        assert first[0] == again[0] == 201
        assert again[1] == first[1]
        assert len(db_rows("SELECT 1 FROM reservations WHERE session_id = %s", (session["id"],))) == 1

    def test_same_key_different_body_is_rejected(self, api, session):
        seats = api.seats(session["id"])
        key = {"Idempotency-Key": str(uuid.uuid4())}
        assert api.hold(session["id"], [seats[0]["id"]], headers=key)[0] == 201
        status, error, _ = api.hold(session["id"], [seats[1]["id"]], headers=key)
        assert status == 422 and "different request body" in error["message"]
        assert seats[1]["id"] not in {
            str(s)
            for r in db_rows("SELECT seat_ids FROM reservations WHERE session_id = %s", (session["id"],))
            for s in r["seat_ids"]
        }

    def test_keys_are_scoped_per_user(self, api, session):
        seats = api.seats(session["id"])
        key = {"Idempotency-Key": "shared-key-" + str(uuid.uuid4())}
        assert api.hold(session["id"], [seats[0]["id"]], user="alice", headers=key)[0] == 201
        status, reservation, _ = api.hold(session["id"], [seats[1]["id"]], user="bob", headers=key)
        assert status == 201 and reservation["userId"] == "bob"

    def test_failed_requests_are_not_replayed(self, api, session):
        seat = api.seats(session["id"])[0]
        assert api.hold(session["id"], [seat["id"]], user="alice")[0] == 201
        key = {"Idempotency-Key": str(uuid.uuid4())}
        assert api.hold(session["id"], [seat["id"]], user="bob", headers=key)[0] == 409
        assert api.hold(session["id"], [seat["id"]], user="bob", headers=key)[0] == 409
