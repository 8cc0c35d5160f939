"""GET /sessions/{id}/seats carries an ETag that follows the map's effective state (a hold
lapsing by the database clock changes it, though no row changes) and answers 304 to a
matching If-None-Match."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest

from chalicelib.bootstrap import reset_container
from tests.helpers import db_rows


def seat_map(api, session_id: str, tag: str | None = None):
    headers = {"If-None-Match": tag} if tag else {}
    return api.get(f"/sessions/{session_id}/seats", headers=headers)


def test_an_unchanged_map_answers_304_without_a_body(api):
    session = api.new_session()
    status, seats, headers = seat_map(api, session["id"])
    assert status == 200 and len(seats) == 20
    tag = headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and headers["Cache-Control"] == "no-cache"

    status, body, headers = seat_map(api, session["id"], tag)
    assert (status, body, headers["ETag"]) == (304, None, tag)
    # Weak comparison, lists of tags and "*" (RFC 9110).
    assert seat_map(api, session["id"], f"W/{tag}")[0] == 304
    assert seat_map(api, session["id"], f'"other", {tag}')[0] == 304
    assert seat_map(api, session["id"], "*")[0] == 304
    status, again, headers = seat_map(api, session["id"], '"stale"')
    assert (status, again, headers["ETag"]) == (200, seats, tag)


def test_the_tag_changes_with_every_change_of_the_map(api):
    session = api.new_session()
    _, seats, headers = seat_map(api, session["id"])
    tags = [headers["ETag"]]

    status, held, _ = api.hold(session["id"], [seats[0]["id"]])
    assert status == 201
    status, after_hold, headers = seat_map(api, session["id"], tags[-1])
    assert status == 200 and after_hold[0]["status"] == "reserved"
    tags.append(headers["ETag"])

    assert api.delete(f"/reservations/{held['id']}")[0] == 204
    status, after_cancel, headers = seat_map(api, session["id"], tags[-1])
    assert status == 200 and after_cancel[0]["status"] == "available"
    tags.append(headers["ETag"])

    status, held, _ = api.hold(session["id"], [seats[1]["id"]])
    assert status == 201
    tags.append(seat_map(api, session["id"])[2]["ETag"])
    assert api.post("/sales", {"reservationId": held["id"]})[0] == 201
    status, after_sale, headers = seat_map(api, session["id"], tags[-1])
    assert status == 200 and after_sale[1]["status"] == "sold"
    tags.append(headers["ETag"])

    assert len(set(tags)) == len(tags), tags
    # The same tag for the same map, whoever asks again.
    assert seat_map(api, session["id"])[2]["ETag"] == tags[-1]


def test_a_lapsing_hold_changes_the_tag_though_no_row_changes(api, monkeypatch):
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "1")
    reset_container()
    session = api.new_session()
    _, seats, _ = seat_map(api, session["id"])
    status, held, _ = api.hold(session["id"], [seats[3]["id"]], user=f"lapse-{uuid.uuid4().hex[:6]}")
    assert status == 201
    status, while_held, headers = seat_map(api, session["id"])
    assert while_held[3]["status"] == "reserved"
    tag = headers["ETag"]

    lapse = datetime.fromisoformat(held["expiresAt"].replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, lapse - time.time()) + 0.05)
    # No sweeper ran: the row still says reserved, and the map says available.
    status, lapsed, headers = seat_map(api, session["id"], tag)
    assert status == 200 and lapsed[3]["status"] == "available" and lapsed[3]["reservationId"] is None
    assert headers["ETag"] != tag
    assert db_rows("SELECT status FROM seats WHERE id = %s", (seats[3]["id"],)) == [{"status": "reserved"}]


def test_unknown_and_malformed_sessions_are_still_404_and_400(api):
    missing = str(uuid.uuid4())
    assert seat_map(api, missing)[0] == 404
    status, error, _ = seat_map(api, missing, '"anything"')
    assert status == 404 and error["statusCode"] == 404
    assert seat_map(api, missing, "*")[0] == 404
    assert seat_map(api, "not-a-uuid", '"x"')[0] == 400


@pytest.mark.parametrize("header", ["", " ", ",", 'W/""', "garbage"])
def test_odd_if_none_match_values_get_the_full_map(api, header):
    session = api.new_session(totalSeats=16)
    status, seats, headers = api.get(f"/sessions/{session['id']}/seats", headers={"If-None-Match": header})
    assert status == 200 and len(seats) == 16 and headers["ETag"]
