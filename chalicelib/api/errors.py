"""The one place where errors become HTTP answers. Every error body has the same shape:
``{"statusCode": 409, "error": "Conflict", "message": "..."}``."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from chalice import Response
from chalice.app import Request

from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    RateLimited,
    RetryLater,
    Unauthenticated,
    Unavailable,
)
from chalicelib.observability import logger


class RequestRejected(Exception):
    """The HTTP request itself is unacceptable (malformed JSON, wrong types, too large)."""

    def __init__(self, message: str, status: int = 400, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (RetryLater, 409),
    (NotFound, 404),
    (InvalidRequest, 400),
    (Conflict, 409),
    (IdempotencyKeyReused, 422),
    (Unavailable, 503),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
]


# What a 503 tells the client: the dependency that is down is usually back within seconds.
RETRY_UNAVAILABLE_AFTER_SECONDS = 1


def error_body(status: int, message: str, details: list[str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    if details:
        body["details"] = details
    return body


def error_response(status: int, message: str, details: list[str] | None = None, headers=None) -> Response:
    return Response(
        body=json.dumps(error_body(status, message, details)),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def response_for(exc: Exception) -> Response:
    if isinstance(exc, RequestRejected):
        return error_response(exc.status, exc.message, exc.details)
    if isinstance(exc, DomainError):
        for error_type, status in _STATUS_BY_ERROR:
            if isinstance(exc, error_type):
                headers = {}
                if isinstance(exc, RetryLater | RateLimited):
                    headers["Retry-After"] = str(exc.retry_after_seconds)
                elif isinstance(exc, Unauthenticated):
                    headers["WWW-Authenticate"] = "Bearer"
                elif isinstance(exc, Unavailable):
                    headers["Retry-After"] = str(RETRY_UNAVAILABLE_AFTER_SECONDS)
                return error_response(status, exc.message, headers=headers)
    logger.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal error")


def chalice_answers_in_error_shape(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: Chalice answers some requests itself before any view runs (405 for a
    method the route does not have, 415 for a body that is not JSON) in a shape of its own,
    ``{"Code": ..., "Message": ...}``. Those leave in the API's error shape, headers kept
    (``Allow`` on a 405)."""
    response = get_response(request)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        headers = {name: value for name, value in response.headers.items() if name.lower() != "content-type"}
        return error_response(response.status_code, str(body["Message"]), headers=headers)
    return response
