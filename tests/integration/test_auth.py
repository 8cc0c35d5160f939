"""AUTH_MODE=jwt (the test stage's default): who may do what, object-level authorisation,
token checks and rate limits. Runs through chalice.test.Client on the ``test`` stage with
tokens signed with that stage's development key.

The client swaps ``os.environ`` for each request, so it must never be used from several
threads at once; concurrent checks (the held-seat cap) run over HTTP in tests/e2e."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from chalice.test import Client

from app import app
from chalicelib.bootstrap import reset_container
from infra.dev_token import stage_environment, token_for
from tests.api_client import ApiClient, InProcess, session_body
from tests.helpers import db_rows

STAGE = "test"


def bearer(user: str, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user, admin=admin, stage=STAGE)}"}


@pytest.fixture(scope="module")
def jwt_client():
    with Client(app, stage_name=STAGE) as client:
        yield client


@pytest.fixture
def secure(jwt_client) -> ApiClient:
    assert stage_environment(STAGE)["AUTH_MODE"] == "jwt"
    return ApiClient(InProcess(jwt_client))


@pytest.fixture
def show(secure):
    """A session created by an admin, and alice's hold and purchase in it."""
    status, session, _ = secure.post("/sessions", session_body(), headers=bearer("staff", admin=True))
    assert status == 201, session
    seats = secure.get(f"/sessions/{session['id']}/seats")[1]
    owner = f"alice-{uuid.uuid4().hex[:8]}"
    alice = bearer(owner)
    body = {"sessionId": session["id"], "seatIds": [seats[0]["id"]], "userId": owner, "userEmail": "a@example.com"}
    status, held, _ = secure.post("/reservations", body, headers=alice)
    assert status == 201, held
    body["seatIds"] = [seats[1]["id"]]
    _, paid, _ = secure.post("/reservations", body, headers=alice)
    status, sale, _ = secure.post("/sales", {"reservationId": paid["id"]}, headers=alice)
    assert status == 201, sale
    return {"session": session, "seats": seats, "held": held, "paid": paid, "sale": sale, "owner": owner}


def test_reading_the_programme_needs_no_token(secure, show):
    assert secure.get("/sessions")[0] == 200
    assert secure.get(f"/sessions/{show['session']['id']}/seats")[0] == 200


def test_only_admins_manage_sessions(secure, show):
    assert secure.post("/sessions", session_body(), headers=bearer("mallory"))[0] == 403
    path = f"/sessions/{show['session']['id']}"
    assert secure.patch(path, {"ticketPrice": "1.00"}, headers=bearer("mallory"))[0] == 403
    assert secure.delete(path, headers=bearer("mallory"))[0] == 403
    assert secure.get(path)[1]["ticketPrice"] == "25.00"
    assert secure.get("/metrics", headers=bearer("mallory"))[0] == 403
    assert secure.get("/metrics", headers=bearer("staff", admin=True))[0] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/reservations/{held}"),
        ("delete", "/reservations/{held}"),
        ("get", "/sales/{sale}"),
        ("post", "/sales"),
        ("get", "/reservations/{held}/events"),
    ],
)
def test_another_users_objects_read_as_missing_and_nothing_changes(secure, show, method, path):
    target = path.format(held=show["held"]["id"], sale=show["sale"]["id"])
    mallory = bearer("mallory")
    if method == "post":
        status, _, _ = secure.post(target, {"reservationId": show["held"]["id"]}, headers=mallory)
    else:
        status, _, _ = getattr(secure, method)(target, headers=mallory)
    assert status == 404
    assert db_rows("SELECT status FROM reservations WHERE id = %s", (show["held"]["id"],)) == [{"status": "pending"}]
    assert db_rows("SELECT 1 FROM sales WHERE reservation_id = %s", (show["held"]["id"],)) == []
    # The owner still sees and controls it.
    assert secure.get(f"/reservations/{show['held']['id']}", headers=bearer(show["owner"]))[0] == 200


def test_users_act_as_themselves(secure, show):
    body = {
        "sessionId": show["session"]["id"],
        "seatIds": [show["seats"][5]["id"]],
        "userId": show["owner"],
        "userEmail": "a@example.com",
    }
    status, error, _ = secure.post("/reservations", body, headers=bearer("mallory"))
    assert status == 403 and "authenticated user" in error["message"]
    assert secure.get(f"/sales/user/{show['owner']}", headers=bearer("mallory"))[0] == 403
    status, history, _ = secure.get(f"/sales/user/{show['owner']}", headers=bearer(show["owner"]))
    assert status == 200 and [s["id"] for s in history] == [show["sale"]["id"]]


def forged(claims_override: dict, key: str | None = None, algorithm: str = "HS256") -> dict[str, str]:
    env = stage_environment(STAGE)
    now = int(time.time())
    claims = {"sub": "alice", "iss": env["JWT_ISSUER"], "aud": env["JWT_AUDIENCE"], "iat": now, "exp": now + 600}
    claims.update(claims_override)
    if algorithm == "none":
        token = jwt.encode(claims, None, algorithm="none")
    else:
        token = jwt.encode(claims, key or env["JWT_SECRET"], algorithm=algorithm)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        {"Authorization": "Bearer not.a.jwt"},
        "expired",
        "wrong-signature",
        "wrong-audience",
        "wrong-issuer",
        "alg-none",
        "no-subject",
    ],
)
def test_bad_tokens_are_401(secure, show, headers):
    variants = {
        "expired": lambda: forged({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}),
        "wrong-signature": lambda: forged({}, key="some-other-key-that-is-long-enough-for-hs256"),
        "wrong-audience": lambda: forged({"aud": "someone-else"}),
        "wrong-issuer": lambda: forged({"iss": "https://evil.example"}),
        "alg-none": lambda: forged({}, algorithm="none"),
        "no-subject": lambda: forged({"sub": ""}),
    }
    if isinstance(headers, str):
        headers = variants[headers]()
    status, _, _ = secure.get(f"/reservations/{show['held']['id']}", headers=headers)
    assert status == 401
    assert secure.delete(f"/reservations/{show['held']['id']}", headers=headers)[0] == 401
    assert db_rows("SELECT status FROM reservations WHERE id = %s", (show["held"]["id"],)) == [{"status": "pending"}]


def test_flooding_user_is_throttled_while_others_are_served(secure, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_PER_USER", "10")
    reset_container()
    flooder, patient = f"flood-{uuid.uuid4().hex[:6]}", f"calm-{uuid.uuid4().hex[:6]}"
    statuses = [secure.get(f"/sales/user/{flooder}", headers=bearer(flooder))[0] for _ in range(25)]
    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    status, error, headers = secure.get(f"/sales/user/{flooder}", headers=bearer(flooder))
    assert status == 429 and int(headers["Retry-After"]) >= 1 and error["error"] == "Too Many Requests"
    assert secure.get(f"/sales/user/{patient}", headers=bearer(patient))[0] == 200


def test_holds_count_against_the_callers_limit_in_the_gate_script(secure, monkeypatch):
    """POST /reservations counts its quota inside the seat-gate script; a body refused before
    Redis is reached still counts, and over the limit the 429 replaces the view's answer."""
    monkeypatch.setenv("RATE_LIMIT_PER_USER", "3")
    reset_container()
    status, session, _ = secure.post(
        "/sessions", session_body(), headers=bearer(f"staff-{uuid.uuid4().hex[:6]}", admin=True)
    )
    assert status == 201, session
    seats = [seat["id"] for seat in secure.get(f"/sessions/{session['id']}/seats")[1]]

    holder = f"holder-{uuid.uuid4().hex[:6]}"
    answers = [secure.hold(session["id"], [seat], holder, headers=bearer(holder)) for seat in seats[:4]]
    assert [status for status, _, _ in answers] == [201, 201, 201, 429]
    status, error, headers = answers[-1]
    assert error["error"] == "Too Many Requests" and int(headers["Retry-After"]) >= 1
    assert db_rows("SELECT count(*) AS n FROM reservations WHERE user_id = %s", (holder,)) == [{"n": 3}]

    sloppy = f"sloppy-{uuid.uuid4().hex[:6]}"
    refused = [secure.post("/reservations", {"sessionId": "nope"}, headers=bearer(sloppy))[0] for _ in range(4)]
    assert refused == [400, 400, 400, 429]
