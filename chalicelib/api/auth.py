"""Who is calling: the JWT authorizer, and the actor every protected view acts as.

With ``AUTH_MODE=jwt`` (the default of the test, dev and prod stages), Bearer tokens are
checked by a Chalice built-in authorizer, which ``chalice local`` enforces too, and the view
layer checks them again when no authorizer ran (defence in depth). With ``AUTH_MODE=off``
(local development only) there is no actor and the ``userId`` in the body is trusted.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chalice import AuthResponse, Blueprint, Response
from chalice.app import AuthRequest

from chalicelib.api.errors import response_for
from chalicelib.api.http import json_response, parse_body
from chalicelib.api.schemas import DevelopmentLoginRequest
from chalicelib.bootstrap import container
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from chalicelib.config import Settings

auth_api = Blueprint(__name__)


class Access(StrEnum):
    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"


def _reject_as_unauthorized() -> None:
    # API Gateway answers 401 when a TOKEN authorizer fails with exactly "Unauthorized".
    # chalice local and the test client emulate that only through their own error type.
    try:
        from chalice.local import NotAuthorizedError
    except ImportError:  # in Lambda: the API Gateway contract
        raise Exception("Unauthorized") from None
    raise NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')


@auth_api.authorizer()
def jwt_authorizer(auth_request: AuthRequest) -> AuthResponse:
    try:
        identity = container().tokens.verify(auth_request.token)
    except Unauthenticated:
        _reject_as_unauthorized()
        raise
    return AuthResponse(
        routes=["*"],
        principal_id=identity.user_id,
        context={"admin": "true" if identity.is_admin else "false"},
    )


def resolve_actor(context: dict[str, Any] | None, headers: Any, access: Access) -> Actor | None:
    """The caller, or None when authentication is off. Raises 401/403 errors."""
    services = container()
    if services.settings.auth_mode == "off":
        return None
    authorizer = (context or {}).get("authorizer") or {}
    if authorizer.get("principalId"):
        actor = Actor(str(authorizer["principalId"]), str(authorizer.get("admin")) == "true")
    elif access is Access.PUBLIC and not headers.get("authorization"):
        return None
    else:
        actor = services.tokens.verify(headers.get("authorization"))
    if access is Access.ADMIN and not actor.is_admin:
        raise Forbidden("this operation needs an admin token")
    return actor


# Stages whose configuration carries a shared development key (.chalice/config.json). dev and
# prod verify RS256 tokens of a real issuer with a public key, so nothing there could sign one.
DEVELOPMENT_LOGIN_STAGES = frozenset({"local", "test"})
DEVELOPMENT_TOKEN_TTL_SECONDS = 3600


def development_login_available(settings: Settings) -> bool:
    return (
        settings.stage in DEVELOPMENT_LOGIN_STAGES
        and settings.auth_mode == "jwt"
        and "HS256" in settings.jwt_algorithms
        and bool(settings.jwt_secret)
    )


@auth_api.route("/auth/dev-token", methods=["POST"])
def development_token() -> Response:
    """The web page's development login (``make -s token`` over HTTP): any user, no password,
    so it answers 404 outside the local and test stages."""
    try:
        settings = container().settings
        if not development_login_available(settings):
            raise NotFound("development login exists only in the local and test stages with AUTH_MODE=jwt")
        body = parse_body(auth_api.current_request.raw_body, DevelopmentLoginRequest)
        from chalicelib.adapters.tokens import issue_token

        token = issue_token(
            body.user_id,
            admin=body.admin,
            secret=str(settings.jwt_secret),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=DEVELOPMENT_TOKEN_TTL_SECONDS,
            now=int(time.time()),
        )
        return json_response(
            {"token": token, "userId": body.user_id, "admin": body.admin, "expiresIn": DEVELOPMENT_TOKEN_TTL_SECONDS}
        )
    except Exception as exc:
        return response_for(exc)
