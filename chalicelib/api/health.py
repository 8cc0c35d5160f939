"""Liveness of each dependency: 200 when all are up, 503 naming the ones that are down."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.errors import RETRY_UNAVAILABLE_AFTER_SECONDS, error_body
from chalicelib.api.http import json_response
from chalicelib.api.routing import operation
from chalicelib.api.schemas import HealthResponse
from chalicelib.bootstrap import container
from chalicelib.domain.actors import Actor

health_api = Blueprint(__name__)


@operation(
    health_api,
    "GET",
    "/health",
    summary="PostgreSQL, Redis and Kafka health",
    tag="health",
    response=HealthResponse,
    errors=(503,),
    rate_limited=False,
)
def health(actor: Actor | None) -> Response:
    report = container().health.check()
    body = HealthResponse(status="ok" if report.healthy else "degraded", checks=report.checks, down=report.down)
    if report.healthy:
        return json_response(body)
    # Unhealthy is an error like any other: the usual error fields, the report beside them, and
    # when to ask again.
    unhealthy = {**error_body(503, "unavailable: " + ", ".join(report.down)), **body.model_dump()}
    response = json_response(unhealthy, status=503)
    response.headers["Retry-After"] = str(RETRY_UNAVAILABLE_AFTER_SECONDS)
    return response
