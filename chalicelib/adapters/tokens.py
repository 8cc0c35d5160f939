"""Bearer JWT verification: signature, algorithm allow-list, issuer, audience and expiry.

Keys come from one of three places: the issuer's JWKS (``jwks_url``: PyJWT's ``PyJWKClient``
picks the key by the token's ``kid`` and caches the key set), a PEM public key, or, in the
``local`` and ``test`` stages only, the HS256 development secret (chalicelib.config refuses
it anywhere else).
"""

from __future__ import annotations

from typing import Any

import jwt

from chalicelib.domain.actors import MAX_USER_ID_LENGTH, Actor
from chalicelib.domain.errors import Unauthenticated

ADMIN_ROLE = "admin"


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...],
        secret: str | None,
        public_key: str | None,
        leeway_seconds: int,
        jwks_url: str | None = None,
        jwks_cache_seconds: int = 3600,
        jwks_refresh_cooldown_seconds: float = 30.0,
        roles_claim: str = "roles",
    ) -> None:
        if "none" in {a.lower() for a in algorithms}:
            raise ValueError("the 'none' algorithm can never be allowed")
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._secret = secret
        self._public_key = public_key
        self._leeway = leeway_seconds
        self._roles_claim = roles_claim
        # Built on first use: PyJWKClient fetches the key set then, and again only when a token
        # names a kid it does not know (key rotation) or the cache lifespan has passed.
        self._jwks_url = jwks_url
        self._jwks_cache_seconds = jwks_cache_seconds
        # An unknown kid refetches the key set at most this often: forged kids cannot make
        # every request a call to the issuer.
        self._jwks_cooldown = jwks_refresh_cooldown_seconds
        self._jwks: jwt.PyJWKClient | None = None

    def _key_for(self, algorithm: str, token: str) -> Any:
        if algorithm.startswith("HS"):
            key: Any = self._secret
        elif self._jwks_url:
            key = self._jwks_client().get_signing_key_from_jwt(token).key
        else:
            key = self._public_key
        if not key:
            raise Unauthenticated("token algorithm is not accepted")
        return key

    def _jwks_client(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(
                str(self._jwks_url),
                cache_keys=True,
                cache_jwk_set=True,
                lifespan=self._jwks_cache_seconds,
                timeout=5,
                cooldown_duration=self._jwks_cooldown,
            )
        return self._jwks

    def verify(self, authorization: str | None) -> Actor:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("a Bearer token is required")
        token = authorization[len("Bearer ") :].strip()
        try:
            algorithm = jwt.get_unverified_header(token).get("alg", "")
            if algorithm not in self._algorithms:
                raise Unauthenticated("token algorithm is not accepted")
            claims = jwt.decode(
                token,
                self._key_for(algorithm, token),
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            # The issuer's key set could not be fetched: the caller is not at fault, but no
            # token can be checked; 401 (never a 500), and the next request tries again.
            raise Unauthenticated("the token issuer's keys are unavailable") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        # PyJWT also takes "1767225600" and 1767225600.5; RFC 7519 NumericDates we accept are integers.
        if any(type(claims[claim]) is not int for claim in ("exp", "iat")):
            raise Unauthenticated("invalid token: exp and iat must be integers")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > MAX_USER_ID_LENGTH:
            raise Unauthenticated("invalid token subject")
        roles = claims.get(self._roles_claim) or []
        return Actor(user_id=subject, is_admin=isinstance(roles, list) and ADMIN_ROLE in roles)


def issue_token(
    user_id: str, *, admin: bool, secret: str, issuer: str, audience: str, ttl_seconds: int = 3600, now: int
) -> str:
    """Sign an HS256 token (local development and tests only)."""
    claims = {
        "sub": user_id,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "roles": [ADMIN_ROLE] if admin else [],
    }
    return jwt.encode(claims, secret, algorithm="HS256")
