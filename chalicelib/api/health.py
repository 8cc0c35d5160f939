"""Liveness of each dependency: 200 when all are up, 503 naming the ones that are down."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint
from chalicelib.bootstrap import container

health_api = Blueprint(__name__)


@health_api.route("/health", methods=["GET"])
@endpoint
def health() -> Response:
    report = container().health.check()
    body = {"status": "ok" if report.healthy else "degraded", "checks": report.checks, "down": report.down}
    return Response(
        body=json.dumps(body),
        status_code=200 if report.healthy else 503,
        headers={"Content-Type": "application/json"},
    )
