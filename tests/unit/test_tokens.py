"""Bearer token checks that do not need a server: the time claims must be integers (RFC 7519
NumericDate as the issuers we accept write it), which PyJWT alone does not insist on."""

from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.adapters.tokens import TokenVerifier
from chalicelib.domain.errors import Unauthenticated

SECRET = "unit-test-key-of-at-least-thirty-two-bytes"
ISSUER = "cinema-ticketing-unit"
AUDIENCE = "cinema-api"


def verifier() -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, algorithms=("HS256",), secret=SECRET, public_key=None, leeway_seconds=5
    )


def token(**overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")


def test_integer_time_claims_are_accepted():
    assert verifier().verify(token()).user_id == "alice"


@pytest.mark.parametrize(
    "claim",
    [
        {"exp": str(int(time.time()) + 600)},
        {"exp": time.time() + 600.5},
        {"exp": float(int(time.time()) + 600)},
        {"exp": True},
        {"iat": str(int(time.time()))},
        {"iat": time.time() - 0.5},
        {"iat": [int(time.time())]},
        {"iat": None},
    ],
)
def test_time_claims_that_are_not_integers_are_refused(claim):
    with pytest.raises(Unauthenticated):
        verifier().verify(token(**claim))


def test_an_expired_token_is_still_refused():
    with pytest.raises(Unauthenticated, match="expired"):
        verifier().verify(token(exp=int(time.time()) - 60, iat=int(time.time()) - 120))
