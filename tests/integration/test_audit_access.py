"""GET /reservations/{id}/events: the owner and admins read a reservation's audit trail;
anyone else, and anyone asking for a reservation that does not exist, gets 404 as for every
other object. The trail is the audit consumer's read model: rows are written here as that
consumer writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from chalice.test import Client
from psycopg.types.json import Jsonb

from app import app
from infra.dev_token import token_for
from tests.api_client import ApiClient, InProcess, session_body
from tests.helpers import assert_error_shape, db_execute

STAGE = "test"


def bearer(user: str, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user, admin=admin, stage=STAGE)}"}


@pytest.fixture(scope="module")
def jwt_client():
    with Client(app, stage_name=STAGE) as client:
        yield client


@pytest.fixture
def secure(jwt_client) -> ApiClient:
    return ApiClient(InProcess(jwt_client))


def record_audit_event(reservation: dict, event_type: str = "reservation.created") -> str:
    event_id = str(uuid.uuid4())
    db_execute(
        """
        INSERT INTO audit_events (event_id, event_type, session_id, reservation_id, user_id, occurred_at,
                                  kafka_topic, kafka_partition, kafka_offset, payload)
        VALUES (%s, %s, %s, %s, %s, %s, 'cinema.booking-events', 0, 0, %s)
        """,
        (
            event_id,
            event_type,
            reservation["sessionId"],
            reservation["id"],
            reservation["userId"],
            datetime.now(UTC),
            Jsonb({"eventId": event_id, "type": event_type, "reservationId": reservation["id"]}),
        ),
    )
    return event_id


@pytest.fixture
def held(secure) -> dict:
    status, session, _ = secure.post("/sessions", session_body(), headers=bearer("staff", admin=True))
    assert status == 201, session
    seat = secure.get(f"/sessions/{session['id']}/seats")[1][0]["id"]
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    body = {"sessionId": session["id"], "seatIds": [seat], "userId": owner, "userEmail": "o@example.com"}
    status, reservation, _ = secure.post("/reservations", body, headers=bearer(owner))
    assert status == 201, reservation
    return reservation


def events_of(secure, reservation_id: str, headers: dict[str, str]):
    status, body, _ = secure.get(f"/reservations/{reservation_id}/events", headers=headers)
    return status, body


def test_the_owner_and_any_admin_read_the_trail(secure, held):
    event_id = record_audit_event(held)
    for reader in (bearer(held["userId"]), bearer("auditor", admin=True)):
        status, trail = events_of(secure, held["id"], reader)
        assert status == 200, trail
        assert [(e["eventId"], e["type"]) for e in trail] == [(event_id, "reservation.created")]


def test_a_trail_not_recorded_yet_is_empty_for_its_owner(secure, held):
    assert events_of(secure, held["id"], bearer(held["userId"])) == (200, [])
    assert events_of(secure, held["id"], bearer("auditor", admin=True)) == (200, [])


def test_someone_elses_trail_reads_as_missing(secure, held):
    record_audit_event(held)
    status, error = events_of(secure, held["id"], bearer("mallory"))
    assert_error_shape(status, error, 404)
    status, error = events_of(secure, held["id"], bearer(f"mallory-{uuid.uuid4().hex[:6]}"))
    assert_error_shape(status, error, 404)


@pytest.mark.parametrize("admin", [False, True])
def test_an_unknown_reservation_is_a_404(secure, admin):
    status, error = events_of(secure, str(uuid.uuid4()), bearer("someone", admin=admin))
    assert_error_shape(status, error, 404)


def test_the_trail_of_a_deleted_reservation_stays_readable(secure, held):
    """Deleting a session removes its lapsed and cancelled reservations; their trail stays."""
    event_id = record_audit_event(held)
    assert secure.delete(f"/reservations/{held['id']}", headers=bearer(held["userId"]))[0] == 204
    assert secure.delete(f"/sessions/{held['sessionId']}", headers=bearer("staff", admin=True))[0] == 204
    status, trail = events_of(secure, held["id"], bearer(held["userId"]))
    assert status == 200 and [e["eventId"] for e in trail] == [event_id]
    assert events_of(secure, held["id"], bearer("mallory"))[0] == 404


def test_with_auth_off_unknown_reservations_are_404_too(api):
    status, error, _ = api.get(f"/reservations/{uuid.uuid4()}/events")
    assert_error_shape(status, error, 404)
    session = api.new_session()
    status, reservation, _ = api.hold(session["id"], [api.seats(session["id"])[0]["id"]], user="anyone")
    assert status == 201
    assert api.get(f"/reservations/{reservation['id']}/events")[:2] == (200, [])
