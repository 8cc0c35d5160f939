"""Structured JSON logging for every request, correlated by the API Gateway request id."""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger
from chalice.app import Request, Response

logger = Logger(service="cinema-api")


def log_request(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = (event.context or {}).get("requestId")
    logger.set_correlation_id(request_id)
    started = time.perf_counter()
    response = get_response(event)
    logger.info(
        "request handled",
        extra={
            "method": event.method,
            "path": (event.context or {}).get("resourcePath"),
            "status": response.status_code,
            "durationMs": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response
