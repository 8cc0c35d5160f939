"""Races across several API processes over HTTP: no seat is ever held or sold twice.

Assertions use only the HTTP API, so this file can also drive a deployed stack.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.helpers import seat_holders

pytestmark = pytest.mark.slow

ROUNDS = 3


def statuses(results) -> Counter:
    return Counter(status for status, _, _ in results)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_200_simultaneous_holds_of_one_seat_have_exactly_one_winner(driver, round_):
    session = driver.new_session()
    seat = driver.seats(session["id"])[0]
    results = driver.burst(
        [("POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], f"user-{i}")) for i in range(200)]
    )
    counts = statuses(results)
    assert counts == Counter({201: 1, 409: 199}), counts
    winner = next(body for status, body, _ in results if status == 201)
    held = driver.seats(session["id"])[0]
    # The public map does not say whose hold it is; the winner's reservation does.
    assert held["status"] == "reserved" and winner["seatIds"] == [seat["id"]]
    status, reservation, _ = driver.request("GET", f"/reservations/{winner['id']}")
    assert status == 200 and reservation["status"] == "pending" and reservation["seatIds"] == [seat["id"]]
    assert seat_holders([seat["id"]]) == {seat["id"]: winner["id"]}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_100_users_two_random_seats_of_16_never_overlap(driver, round_):
    session = driver.new_session(totalSeats=16)
    seat_ids = [s["id"] for s in driver.seats(session["id"])]
    rng = random.Random(round_)
    results = driver.burst(
        [
            ("POST", "/reservations", driver.hold_body(session["id"], rng.sample(seat_ids, 2), f"user-{i}"))
            for i in range(100)
        ]
    )
    assert all(status in (201, 409) for status, _, _ in results), statuses(results)
    won = [body for status, body, _ in results if status == 201]
    held = [seat for reservation in won for seat in reservation["seatIds"]]
    assert len(held) == len(set(held)), "a seat is in two live reservations"
    assert won, "somebody must win"
    seat_map = {s["id"]: s for s in driver.seats(session["id"])}
    reserved = {seat_id for seat_id, seat in seat_map.items() if seat["status"] == "reserved"}
    assert reserved == set(held)
    assert seat_holders(held) == {seat: reservation["id"] for reservation in won for seat in reservation["seatIds"]}


@pytest.mark.parametrize("round_", range(10))
def test_crossed_seat_orders_never_deadlock(driver, round_):
    session = driver.new_session()
    seats = driver.seats(session["id"])
    s1, s3 = seats[0]["id"], seats[2]["id"]
    results = driver.burst(
        [
            ("POST", "/reservations", driver.hold_body(session["id"], [s1, s3], "left")),
            ("POST", "/reservations", driver.hold_body(session["id"], [s3, s1], "right")),
        ]
    )
    assert sorted(status for status, _, _ in results) == [201, 409], results
    assert all("deadlock" not in str(body).lower() for _, body, _ in results)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_20_simultaneous_payments_make_one_sale(driver, round_):
    session = driver.new_session()
    seat = driver.seats(session["id"])[0]
    status, reservation, _ = driver.request(
        "POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], "payer")
    )
    assert status == 201
    results = driver.burst([("POST", "/sales", {"reservationId": reservation["id"]}) for _ in range(20)])
    counts = statuses(results)
    assert counts[201] == 1 and counts[201] + counts[400] + counts[409] == 20, counts
    status, history, _ = driver.request("GET", "/sales/user/payer")
    assert sum(1 for sale in history if sale["reservationId"] == reservation["id"]) == 1


@pytest.mark.parametrize("round_", range(5))
def test_pay_against_cancel_has_one_outcome(driver, round_):
    session = driver.new_session()
    seat = driver.seats(session["id"])[0]
    _, reservation, _ = driver.request("POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], "racer"))
    results = driver.burst(
        [
            ("POST", "/sales", {"reservationId": reservation["id"]}),
            ("DELETE", f"/reservations/{reservation['id']}", None),
        ]
    )
    (pay_status, _, _), (cancel_status, _, _) = results
    _, final, _ = driver.request("GET", f"/reservations/{reservation['id']}")
    seat_now = driver.seats(session["id"])[0]
    if pay_status == 201:
        assert cancel_status == 400 and final["status"] == "confirmed" and seat_now["status"] == "sold"
    else:
        assert cancel_status == 204 and final["status"] == "cancelled" and seat_now["status"] == "available"
