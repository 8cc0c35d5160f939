"""Movie sessions through the Chalice handlers (chalice.test.Client), against real PostgreSQL."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.api_client import future, session_body
from tests.helpers import db_rows


def test_create_session_answers_the_spec_shape(api):
    status, session, _ = api.post("/sessions", session_body(ticketPrice=25.00, totalSeats=20))
    assert status == 201
    assert set(session) >= {
        "id",
        "movieName",
        "roomNumber",
        "startTime",
        "endTime",
        "ticketPrice",
        "totalSeats",
        "availableSeats",
        "createdAt",
    }
    assert session["ticketPrice"] == "25.00"
    assert session["totalSeats"] == session["availableSeats"] == 20
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", session["startTime"])


def test_seats_are_generated_in_rows_of_ten(api):
    session = api.new_session(totalSeats=23)
    seats = api.seats(session["id"])
    assert [s["seatNumber"] for s in seats][:11] == [f"A{i}" for i in range(1, 11)] + ["B1"]
    assert seats[-1]["seatNumber"] == "C3"
    assert {s["status"] for s in seats} == {"available"}
    assert all(s["sessionId"] == session["id"] and s["reservationId"] is None for s in seats)


def test_price_keeps_exact_decimals(api):
    session = api.new_session(ticketPrice=19.99)
    assert session["ticketPrice"] == "19.99"
    stored = db_rows("SELECT ticket_price::text AS p FROM movie_sessions WHERE id = %s", (session["id"],))
    assert stored[0]["p"] == "19.99"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"totalSeats": 15}, "totalSeats"),
        ({"totalSeats": 501}, "totalSeats"),
        ({"totalSeats": "20"}, "totalSeats"),
        ({"totalSeats": 20.5}, "totalSeats"),
        ({"ticketPrice": -1}, "ticketPrice"),
        ({"ticketPrice": 0}, "ticketPrice"),
        ({"ticketPrice": "10.001"}, "ticketPrice"),
        ({"ticketPrice": True}, "ticketPrice"),
        ({"startTime": "tomorrow"}, "startTime"),
        ({"startTime": "2030-01-01T10:00:00"}, "startTime"),
        ({"movieName": ""}, "movieName"),
        ({"movieName": 42}, "movieName"),
        ({"unexpected": 1}, "unknown field"),
        ({"startTime": future(30), "endTime": future(29)}, "startTime must be before endTime"),
        ({"startTime": "2020-01-01T10:00:00Z", "endTime": "2020-01-01T12:00:00Z"}, "future"),
    ],
)
def test_invalid_sessions_are_rejected_with_400_and_nothing_is_written(api, overrides, fragment):
    marker = f"invalid-{uuid.uuid4()}"
    status, error, _ = api.post(
        "/sessions",
        session_body(movieName=marker, **overrides) if "movieName" not in overrides else session_body(**overrides),
    )
    assert status == 400, error
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert fragment in error["message"]
    assert db_rows("SELECT 1 FROM movie_sessions WHERE movie_name = %s", (marker,)) == []


@pytest.mark.parametrize("raw", ["{not json", "[1,2]", "", "null", '"text"'])
def test_malformed_bodies_are_400(api, raw):
    status, error, _ = api.post("/sessions", raw)
    assert status == 400
    assert error["error"] == "Bad Request"


def test_oversized_body_is_413(api):
    status, error, _ = api.post("/sessions", session_body(movieName="x" * 20000))
    assert status == 413
    assert "larger than" in error["message"]


def test_get_list_and_missing(api):
    session = api.new_session()
    status, fetched, _ = api.get(f"/sessions/{session['id']}")
    assert status == 200 and fetched == session
    listed_ids: set[str] = set()
    for offset in range(0, 100_000, 500):  # the shared test database may hold many sessions
        status, page, _ = api.get(f"/sessions?limit=500&offset={offset}")
        assert status == 200
        listed_ids |= {s["id"] for s in page}
        if session["id"] in listed_ids or len(page) < 500:
            break
    assert session["id"] in listed_ids
    status, error, _ = api.get(f"/sessions/{uuid.uuid4()}")
    assert status == 404 and error["statusCode"] == 404
    status, error, _ = api.get("/sessions/not-a-uuid")
    assert status == 400 and "UUID" in error["message"]
    status, _, _ = api.get("/sessions?limit=abc")
    assert status == 400


def test_patch_changes_fields_and_grows_the_room(api):
    session = api.new_session(totalSeats=20)
    status, updated, _ = api.patch(f"/sessions/{session['id']}", {"ticketPrice": 30.5, "totalSeats": 25})
    assert status == 200, updated
    assert updated["ticketPrice"] == "30.50"
    assert updated["totalSeats"] == 25 and updated["availableSeats"] == 25
    assert api.seats(session["id"])[-1]["seatNumber"] == "C5"


def test_patch_refuses_to_remove_held_or_sold_seats(api):
    session = api.new_session(totalSeats=20)
    last_seat = api.seats(session["id"])[-1]
    status, _, _ = api.hold(session["id"], [last_seat["id"]])
    assert status == 201
    status, error, _ = api.patch(f"/sessions/{session['id']}", {"totalSeats": 16})
    assert status == 409, error
    assert len(api.seats(session["id"])) == 20
    status, unchanged, _ = api.get(f"/sessions/{session['id']}")
    assert unchanged["totalSeats"] == 20


def test_patch_may_shrink_over_free_seats(api):
    session = api.new_session(totalSeats=20)
    first = api.seats(session["id"])[0]
    assert api.hold(session["id"], [first["id"]])[0] == 201
    status, updated, _ = api.patch(f"/sessions/{session['id']}", {"totalSeats": 16})
    assert status == 200, updated
    assert updated["totalSeats"] == 16 and updated["availableSeats"] == 15
    assert len(api.seats(session["id"])) == 16


@pytest.mark.parametrize(
    "body", [{}, {"ticketPrice": None}, {"status": "open"}, {"totalSeats": 10}, {"endTime": "2020-01-01T00:00:00Z"}]
)
def test_patch_rejects_bad_changes(api, body):
    session = api.new_session()
    status, error, _ = api.patch(f"/sessions/{session['id']}", body)
    assert status == 400, error
    status, unchanged, _ = api.get(f"/sessions/{session['id']}")
    assert unchanged == session


def test_patch_unknown_session_is_404(api):
    assert api.patch(f"/sessions/{uuid.uuid4()}", {"movieName": "x"})[0] == 404


def test_delete_session(api):
    session = api.new_session()
    status, body, _ = api.delete(f"/sessions/{session['id']}")
    assert status == 204 and body is None
    assert api.get(f"/sessions/{session['id']}")[0] == 404
    assert api.delete(f"/sessions/{session['id']}")[0] == 404
    assert db_rows("SELECT 1 FROM seats WHERE session_id = %s", (session["id"],)) == []


def test_delete_refuses_sessions_with_live_holds_or_sales(api):
    session = api.new_session()
    seats = api.seats(session["id"])
    status, reservation, _ = api.hold(session["id"], [seats[0]["id"]])
    assert status == 201
    assert api.delete(f"/sessions/{session['id']}")[0] == 409
    assert api.post("/sales", {"reservationId": reservation["id"]})[0] == 201
    status, error, _ = api.delete(f"/sessions/{session['id']}")
    assert status == 409 and "sales" in error["message"]
    assert api.get(f"/sessions/{session['id']}")[0] == 200


def test_delete_is_allowed_once_holds_are_cancelled(api):
    session = api.new_session()
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    assert api.delete(f"/reservations/{reservation['id']}")[0] == 204
    assert api.delete(f"/sessions/{session['id']}")[0] == 204
