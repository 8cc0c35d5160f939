"""Errors the service layer raises. They say what went wrong in business terms;
``chalicelib.api.errors`` is the one place that turns them into HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing does not exist, or is not the caller's to see."""


class InvalidRequest(DomainError):
    """The request breaks a business rule; retrying it unchanged cannot succeed."""


class Conflict(DomainError):
    """The request collides with the current state (a seat is taken, a session has sales)."""


class RetryLater(Conflict):
    """The same request is being processed right now; the client should retry shortly."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key came back with a different request."""


class Unavailable(DomainError):
    """A dependency the request cannot do without (PostgreSQL) is unreachable."""


class Unauthenticated(DomainError):
    """No valid identity came with a request that needs one."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class RateLimited(DomainError):
    """The caller sent more requests than its rate limits allow."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
