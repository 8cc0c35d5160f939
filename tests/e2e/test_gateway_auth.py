"""Under ``chalice local --stage test`` (AUTH_MODE=jwt) the built-in JWT authorizer guards
every protected route, as API Gateway would."""

from __future__ import annotations

import httpx
import pytest

from infra.dev_token import token_for
from tests.e2e.conftest import api_instances
from tests.helpers import session_body

pytestmark = pytest.mark.slow


def test_the_authorizer_guards_protected_routes():
    with api_instances(1, stage="test") as (url,):
        admin = {"Authorization": f"Bearer {token_for('staff', admin=True, stage='test')}"}
        user = {"Authorization": f"Bearer {token_for('bob', admin=False, stage='test')}"}

        assert httpx.get(f"{url}/sessions", timeout=10).status_code == 200
        # The authorizer's refusals are API Gateway's own answer, in API Gateway's shape.
        missing = httpx.post(f"{url}/sessions", json=session_body(), timeout=10)
        assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
        bad = {"Authorization": "Bearer " + token_for("bob", admin=True, stage="test")[:-4] + "AAAA"}
        forged = httpx.post(f"{url}/sessions", json=session_body(), headers=bad, timeout=10)
        assert (forged.status_code, forged.json()) == (401, {"message": "Unauthorized"})
        assert httpx.post(f"{url}/sessions", json=session_body(), headers=user, timeout=10).status_code == 403

        created = httpx.post(f"{url}/sessions", json=session_body(), headers=admin, timeout=10)
        assert created.status_code == 201
        seat = httpx.get(f"{url}/sessions/{created.json()['id']}/seats", timeout=10).json()[0]
        hold = {"sessionId": created.json()["id"], "seatIds": [seat["id"]], "userId": "bob", "userEmail": "b@x.io"}
        assert httpx.post(f"{url}/reservations", json=hold, timeout=10).status_code == 401
        reservation = httpx.post(f"{url}/reservations", json=hold, headers=user, timeout=10)
        assert reservation.status_code == 201
        assert httpx.get(f"{url}/reservations/{reservation.json()['id']}", headers=admin, timeout=10).status_code == 404
        assert httpx.get(f"{url}/reservations/{reservation.json()['id']}", headers=user, timeout=10).status_code == 200
