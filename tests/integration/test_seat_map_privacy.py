"""The public seat map says which seats are free, held or sold, never whose hold or sale a
seat belongs to: ``reservationId`` stays in every seat, always null. Its ETag still follows
every change, including a seat passing from one hold to another."""

from __future__ import annotations

import uuid

from tests.helpers import seat_holders


def test_held_and_sold_seats_do_not_show_their_reservation(api):
    session = api.new_session()
    seats = api.seats(session["id"])
    _, held, _ = api.hold(session["id"], [seats[0]["id"], seats[1]["id"]], user=f"a-{uuid.uuid4().hex[:6]}")
    _, paid, _ = api.hold(session["id"], [seats[2]["id"]], user=f"b-{uuid.uuid4().hex[:6]}")
    assert api.post("/sales", {"reservationId": paid["id"]})[0] == 201

    shown = api.seats(session["id"])
    assert [s["status"] for s in shown[:4]] == ["reserved", "reserved", "sold", "available"]
    assert all("reservationId" in s and s["reservationId"] is None for s in shown)
    # The rows still know, for the owners' own reads.
    assert seat_holders([s["id"] for s in shown[:3]]) == {
        seats[0]["id"]: held["id"],
        seats[1]["id"]: held["id"],
        seats[2]["id"]: paid["id"],
    }


def test_the_tag_changes_when_a_seat_passes_from_one_hold_to_another(api):
    session = api.new_session()
    seat = api.seats(session["id"])[0]["id"]
    path = f"/sessions/{session['id']}/seats"
    tags = [api.get(path)[2]["ETag"]]

    _, first, _ = api.hold(session["id"], [seat], user="first")
    tags.append(api.get(path)[2]["ETag"])
    assert api.delete(f"/reservations/{first['id']}")[0] == 204
    tags.append(api.get(path)[2]["ETag"])
    _, second, _ = api.hold(session["id"], [seat], user="second")
    tags.append(api.get(path)[2]["ETag"])
    assert api.delete(f"/reservations/{second['id']}")[0] == 204
    assert api.hold(session["id"], [seat], user="third")[0] == 201
    tags.append(api.get(path)[2]["ETag"])

    assert len(set(tags)) == len(tags), tags
    # The tag a 200 carries is the one a conditional request computes.
    status, body, headers = api.get(path, headers={"If-None-Match": tags[-1]})
    assert (status, body, headers["ETag"]) == (304, None, tags[-1])
    assert api.get(path, headers={"If-None-Match": tags[-2]})[0] == 200
