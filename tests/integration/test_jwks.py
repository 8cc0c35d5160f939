"""Tokens verified by the issuer's JWKS, the way the prod stage does it: PyJWKClient fetches
the key set over HTTP (here from a real server on 127.0.0.1 playing the issuer), picks the
key by ``kid``, caches it, and the claims are still checked (iss, aud, exp)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.tokens import TokenVerifier
from chalicelib.domain.errors import Unauthenticated

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool"
AUDIENCE = "client-id-of-the-app"


class Issuer:
    """A JWKS endpoint with keys it can rotate, counting how often it is asked."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.requests = 0
        self.rotate()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests += 1
                body = json.dumps({"keys": issuer.public_jwks()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def rotate(self) -> str:
        kid = f"key-{len(self.keys) + 1}"
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def public_jwks(self) -> list[dict]:
        jwks = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            jwks.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return jwks

    def token(self, kid: str | None = None, **claims: object) -> str:
        kid = kid or next(iter(self.keys))
        now = int(time.time())
        body = {"sub": "ana", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    server = Issuer()
    yield server
    server.stop()


def verifier(jwks_url: str, cooldown: float = 30.0) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=("RS256",),
        secret=None,
        public_key=None,
        leeway_seconds=0,
        jwks_url=jwks_url,
        jwks_refresh_cooldown_seconds=cooldown,
        roles_claim="cognito:groups",
    )


def test_a_token_signed_by_the_issuer_is_accepted_and_the_key_set_is_cached(issuer):
    tokens = verifier(issuer.url)
    identity = tokens.verify("Bearer " + issuer.token(**{"cognito:groups": ["admin"]}))
    assert (identity.user_id, identity.is_admin) == ("ana", True)
    for _ in range(5):
        assert tokens.verify("Bearer " + issuer.token(sub="bia")).user_id == "bia"
    assert issuer.requests == 1


def test_a_rotated_key_is_fetched_when_a_token_names_it_after_the_cooldown(issuer):
    tokens = verifier(issuer.url, cooldown=0.5)
    tokens.verify("Bearer " + issuer.token())
    new_kid = issuer.rotate()
    # Right after a fetch an unknown kid does not refetch (forged kids cannot flood the issuer).
    with pytest.raises(Unauthenticated, match="key-2"):
        tokens.verify("Bearer " + issuer.token(kid=new_kid))
    time.sleep(0.6)
    assert tokens.verify("Bearer " + issuer.token(kid=new_kid)).user_id == "ana"
    assert issuer.requests == 2


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://someone-else.example.com"}, "issuer"),
        ({"aud": "another-app"}, "Audience"),
        ({"exp": int(time.time()) - 10}, "expired"),
    ],
)
def test_the_claims_are_still_checked(issuer, claims, message):
    with pytest.raises(Unauthenticated, match=message):
        verifier(issuer.url).verify("Bearer " + issuer.token(**claims))


def test_a_token_signed_by_another_key_is_refused(issuer):
    impostor = Issuer()
    try:
        forged = impostor.token()  # same kid, another key
    finally:
        impostor.stop()
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier(issuer.url).verify("Bearer " + forged)


def test_an_hs256_token_is_refused_when_only_the_jwks_is_trusted(issuer):
    forged = jwt.encode({"sub": "ana", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}, "guess", "HS256")
    with pytest.raises(Unauthenticated, match="algorithm"):
        verifier(issuer.url).verify("Bearer " + forged)


def test_an_unreachable_issuer_is_a_401_not_a_crash(issuer):
    url = issuer.url
    token = issuer.token()
    issuer.stop()
    with pytest.raises(Unauthenticated, match="keys are unavailable"):
        verifier(url).verify("Bearer " + token)
