"""Bearer JWT verification: signature, algorithm allow-list, issuer, audience and expiry."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from chalicelib.domain.errors import Unauthenticated

ADMIN_ROLE = "admin"


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    is_admin: bool


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
    ) -> None:
        if "none" in {a.lower() for a in algorithms}:
            raise ValueError("the 'none' algorithm can never be allowed")
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._secret = secret
        self._public_key = public_key
        self._leeway = leeway_seconds

    def _key_for(self, algorithm: str) -> str:
        key = self._secret if algorithm.startswith("HS") else self._public_key
        if not key:
            raise Unauthenticated("token algorithm is not accepted")
        return key

    def verify(self, authorization: str | None) -> Identity:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("a Bearer token is required")
        token = authorization[len("Bearer ") :].strip()
        try:
            algorithm = jwt.get_unverified_header(token).get("alg", "")
            if algorithm not in self._algorithms:
                raise Unauthenticated("token algorithm is not accepted")
            claims = jwt.decode(
                token,
                self._key_for(algorithm),
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        # PyJWT also takes "1767225600" and 1767225600.5; RFC 7519 NumericDates we accept are integers.
        if any(type(claims[claim]) is not int for claim in ("exp", "iat")):
            raise Unauthenticated("invalid token: exp and iat must be integers")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 128:
            raise Unauthenticated("invalid token subject")
        roles = claims.get("roles") or []
        return Identity(user_id=subject, is_admin=isinstance(roles, list) and ADMIN_ROLE in roles)


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
