"""Liveness of each dependency: 200 when all are up, 503 naming the ones that are down."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import Actor
from chalicelib.api.http import json_response
from chalicelib.api.routing import operation
from chalicelib.api.schemas import HealthResponse
from chalicelib.bootstrap import container

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
    return json_response(body, status=200 if report.healthy else 503)
