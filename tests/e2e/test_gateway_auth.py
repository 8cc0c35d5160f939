"""Under the ``test`` stage (AUTH_MODE=jwt) the built-in JWT authorizer guards every
protected route of the local gateway, as API Gateway would."""

from __future__ import annotations

import pytest

from infra.dev_token import token_for
from tests.api_client import ApiClient, OverHttp, session_body
from tests.e2e.conftest import api_instances

pytestmark = pytest.mark.slow


def test_the_authorizer_guards_protected_routes():
    with api_instances(1, stage="test") as urls:
        api = ApiClient(OverHttp(urls))
        admin = {"Authorization": f"Bearer {token_for('staff', admin=True, stage='test')}"}
        user = {"Authorization": f"Bearer {token_for('bob', admin=False, stage='test')}"}

        assert api.get("/sessions").status == 200
        # The authorizer's refusals are API Gateway's own answer, in API Gateway's shape.
        assert api.post("/sessions", session_body())[:2] == (401, {"message": "Unauthorized"})
        bad = {"Authorization": "Bearer " + token_for("bob", admin=True, stage="test")[:-4] + "AAAA"}
        assert api.post("/sessions", session_body(), bad)[:2] == (401, {"message": "Unauthorized"})
        assert api.post("/sessions", session_body(), user).status == 403

        session = api.new_session(admin)
        seat = api.seats(session["id"])[0]
        assert api.hold(session["id"], [seat["id"]], "bob").status == 401
        status, reservation, _ = api.hold(session["id"], [seat["id"]], "bob", user)
        assert status == 201, reservation
        assert api.get(f"/reservations/{reservation['id']}", admin).status == 404
        assert api.get(f"/reservations/{reservation['id']}", user).status == 200
