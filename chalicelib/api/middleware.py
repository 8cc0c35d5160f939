"""The HTTP side of the observability middleware (app.py): every request's log lines carry its
correlation id, which goes back to the client as ``X-Request-Id``, and one line says how the
request ended."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.observability import logger

CORRELATION_HEADER = "X-Request-Id"


def correlate_and_log(event: Request, get_response: Callable[[Request], Response]) -> Response:
    # API Gateway's request id; Chalice's local gateway has none, so locally the invocation's.
    context = event.context or {}
    correlation_id = context.get("requestId") or getattr(event.lambda_context, "aws_request_id", None)
    logger.set_correlation_id(correlation_id)
    started = time.perf_counter()
    response = get_response(event)
    if correlation_id:
        response.headers[CORRELATION_HEADER] = correlation_id
    logger.info(
        "request handled",
        extra={
            "method": event.method,
            "path": context.get("resourcePath"),
            "status": response.status_code,
            "durationMs": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response
