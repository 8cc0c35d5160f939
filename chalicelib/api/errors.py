"""The one place where errors become HTTP answers. Every error body has the same shape:
``{"statusCode": 409, "error": "Conflict", "message": "..."}``."""

from __future__ import annotations

import json
from http import HTTPStatus

from chalice import Response

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


def error_response(status: int, message: str, details: list[str] | None = None, headers=None) -> Response:
    body: dict[str, object] = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    if details:
        body["details"] = details
    return Response(
        body=json.dumps(body),
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
                    headers["Retry-After"] = "1"
                return error_response(status, exc.message, headers=headers)
    logger.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal error")
