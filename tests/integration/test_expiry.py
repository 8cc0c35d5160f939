"""Expiry: lapsed holds are free at their exact expiry time, and the scheduled sweeper
finalises them exactly once, even when two sweeps overlap."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import container, reset_container
from chalicelib.domain.errors import InvalidRequest
from chalicelib.services.reservations import HoldRequest
from tests.helpers import db_rows, seat_holders


@pytest.fixture
def short_ttl(monkeypatch):
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "1")
    monkeypatch.setenv("EXPIRY_BATCH_SIZE", "15")
    reset_container()


def wait_past(iso_timestamp: str, margin: float = 0.02) -> None:
    deadline = datetime.fromisoformat(iso_timestamp.replace("Z", "+00:00")).timestamp() + margin
    time.sleep(max(0.0, deadline - datetime.now(UTC).timestamp()))


def scheduled_tick(chalice_client):
    event = chalice_client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/cinema-ticketing-test-expire_reservations"],
    )
    return chalice_client.lambda_.invoke("expire_reservations", event)


def events_of(reservation_id: str) -> list[str]:
    rows = db_rows(
        "SELECT event_type FROM outbox WHERE payload->>'reservationId' = %s ORDER BY id", (str(reservation_id),)
    )
    return [r["event_type"] for r in rows]


def test_the_default_hold_lasts_thirty_seconds(api):
    session = api.new_session()
    _, reservation, _ = api.hold(session["id"], [api.seats(session["id"])[0]["id"]])
    assert reservation["remainingSeconds"] == 30


def test_scheduled_handler_expires_lapsed_holds(api, chalice_client, short_ttl):
    session = api.new_session()
    seat = api.seats(session["id"])[0]
    _, reservation, _ = api.hold(session["id"], [seat["id"]])
    wait_past(reservation["expiresAt"])
    response = scheduled_tick(chalice_client)
    assert response.payload["expired"] >= 1
    status, fetched, _ = api.get(f"/reservations/{reservation['id']}")
    assert status == 200 and fetched["status"] == "expired" and fetched["remainingSeconds"] == 0
    assert db_rows("SELECT status FROM reservations WHERE id = %s", (reservation["id"],)) == [{"status": "expired"}]
    assert db_rows("SELECT status, reservation_id FROM seats WHERE id = %s", (seat["id"],)) == [
        {"status": "available", "reservation_id": None}
    ]
    assert events_of(reservation["id"]) == ["reservation.created", "reservation.expired", "seat.released"]
    # A second tick finds nothing more to do for it.
    scheduled_tick(chalice_client)
    assert events_of(reservation["id"]) == ["reservation.created", "reservation.expired", "seat.released"]


def test_a_lapsed_hold_is_free_without_any_sweep(api, short_ttl):
    session = api.new_session()
    seat = api.seats(session["id"])[0]
    _, first, _ = api.hold(session["id"], [seat["id"]], user="alice")
    assert api.hold(session["id"], [seat["id"]], user="bob")[0] == 409
    wait_past(first["expiresAt"], margin=0.02)
    # No sweeper has run: the seat reads as free and can be held by someone else at once.
    seats = api.seats(session["id"])
    assert seats[0]["status"] == "available" and seats[0]["reservationId"] is None
    assert api.get(f"/sessions/{session['id']}")[1]["availableSeats"] == 20
    status, second, _ = api.hold(session["id"], [seat["id"]], user="bob")
    assert status == 201, second
    assert api.get(f"/reservations/{first['id']}")[1]["status"] == "expired"
    # The lapsed hold can no longer be paid or cancelled.
    assert api.post("/sales", {"reservationId": first["id"]})[0] == 400
    assert api.delete(f"/reservations/{first['id']}")[0] == 400
    assert seat_holders([seat["id"]]) == {seat["id"]: second["id"]}


def test_a_sweep_does_not_touch_seats_re_held_after_the_lapse(api, chalice_client, short_ttl):
    session = api.new_session()
    seat = api.seats(session["id"])[0]
    _, first, _ = api.hold(session["id"], [seat["id"]], user="alice")
    wait_past(first["expiresAt"])
    _, second, _ = api.hold(session["id"], [seat["id"]], user="bob")
    scheduled_tick(chalice_client)
    assert api.get(f"/reservations/{first['id']}")[1]["status"] == "expired"
    held = api.seats(session["id"])[0]
    assert held["status"] == "reserved" and seat_holders([seat["id"]]) == {seat["id"]: second["id"]}


def test_paying_just_before_expiry_succeeds_and_after_is_400(api, monkeypatch):
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "2")
    reset_container()
    session = api.new_session()
    seats = api.seats(session["id"])
    _, early, _ = api.hold(session["id"], [seats[0]["id"]])
    _, late, _ = api.hold(session["id"], [seats[1]["id"]])
    wait_past(early["expiresAt"], margin=-0.3)
    assert api.post("/sales", {"reservationId": early["id"]})[0] == 201
    wait_past(late["expiresAt"], margin=0.05)
    status, error, _ = api.post("/sales", {"reservationId": late["id"]})
    assert status == 400 and "expired" in error["message"]


def test_confirmed_and_cancelled_holds_are_never_expired(api, chalice_client, short_ttl):
    session = api.new_session()
    seats = api.seats(session["id"])
    _, paid, _ = api.hold(session["id"], [seats[0]["id"]])
    _, cancelled, _ = api.hold(session["id"], [seats[1]["id"]])
    assert api.post("/sales", {"reservationId": paid["id"]})[0] == 201
    assert api.delete(f"/reservations/{cancelled['id']}")[0] == 204
    wait_past(paid["expiresAt"])
    scheduled_tick(chalice_client)
    assert api.get(f"/reservations/{paid['id']}")[1]["status"] == "confirmed"
    assert api.get(f"/reservations/{cancelled['id']}")[1]["status"] == "cancelled"
    assert api.seats(session["id"])[0]["status"] == "sold"
    assert "reservation.expired" not in events_of(paid["id"]) + events_of(cancelled["id"])


def test_two_overlapping_sweeps_expire_each_hold_exactly_once(api, short_ttl):
    session = api.new_session(totalSeats=200)
    seats = api.seats(session["id"])
    service = container().reservations
    reservations = [
        service.hold(
            HoldRequest(
                session_id=session["id"], seat_ids=(seat["id"],), user_id=f"u{i}", user_email=f"u{i}@example.com"
            )
        )
        for i, seat in enumerate(seats)
    ]
    time.sleep(1.1)
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        counts.append(container().expiry.sweep())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) >= 200
    statuses = db_rows(
        "SELECT status, count(*) AS n FROM reservations WHERE session_id = %s GROUP BY status", (session["id"],)
    )
    assert statuses == [{"status": "expired", "n": 200}]
    per_reservation = db_rows(
        """
        SELECT payload->>'reservationId' AS rid,
               count(*) FILTER (WHERE event_type = 'reservation.expired') AS expired,
               count(*) FILTER (WHERE event_type = 'seat.released') AS released
        FROM outbox WHERE payload->>'sessionId' = %s GROUP BY 1
        """,
        (session["id"],),
    )
    assert len(per_reservation) == 200
    assert {(r["expired"], r["released"]) for r in per_reservation} == {(1, 1)}
    assert {str(r.id) for r in reservations} == {r["rid"] for r in per_reservation}
    assert api.get(f"/sessions/{session['id']}")[1]["availableSeats"] == 200


def test_a_sweep_racing_a_payment_ends_in_one_outcome(api, monkeypatch):
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "1")
    reset_container()
    session = api.new_session(totalSeats=30)
    seats = api.seats(session["id"])
    for seat in seats[:12]:
        _, reservation, _ = api.hold(session["id"], [seat["id"]])
        wait_past(reservation["expiresAt"], margin=-0.004)
        results: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def pay(rid=reservation["id"]):
            barrier.wait()
            try:
                results["sale"] = container().sales.confirm(rid)
            except Exception as exc:
                results["sale_error"] = exc

        def sweep():
            barrier.wait()
            results["swept"] = container().expiry.sweep()

        threads = [threading.Thread(target=pay), threading.Thread(target=sweep)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.05)
        state = db_rows("SELECT status FROM reservations WHERE id = %s", (reservation["id"],))[0]["status"]
        seat_state = db_rows("SELECT status FROM seats WHERE id = %s", (seat["id"],))[0]["status"]
        sales = db_rows("SELECT 1 FROM sales WHERE reservation_id = %s", (reservation["id"],))
        if "sale" in results:
            assert (state, seat_state, len(sales)) == ("confirmed", "sold", 1)
            assert "reservation.expired" not in events_of(reservation["id"])
        else:
            # Refused only because the hold had lapsed, by the database clock inside the
            # payment's own transaction (swept already, or not yet: either reads "expired").
            error = results["sale_error"]
            assert isinstance(error, InvalidRequest) and "reservation is expired" in str(error), error
            assert len(sales) == 0 and state in ("expired", "pending")
            seat_view = next(s for s in api.seats(session["id"]) if s["id"] == seat["id"])
            assert seat_view["status"] == "available"  # free to claim, sweeper or not
            assert "sale.confirmed" not in events_of(reservation["id"])
