"""Routes for the metrics projection (built by a Kafka consumer)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import Access
from chalicelib.api.http import json_response, path_uuid
from chalicelib.api.routing import operation
from chalicelib.api.schemas import AllMetricsResponse, SessionMetricsResponse
from chalicelib.bootstrap import container
from chalicelib.domain.actors import Actor

metrics_api = Blueprint(__name__)
TAG = "metrics"


@operation(
    metrics_api,
    "GET",
    "/sessions/{session_id}/metrics",
    summary="Daily and lifetime sales metrics of a session",
    tag=TAG,
    response=SessionMetricsResponse,
    errors=(400, 401, 403, 404, 429),
    access=Access.ADMIN,
)
def session_metrics(actor: Actor | None, session_id: str) -> Response:
    metrics = container().metrics.for_session(path_uuid(session_id, "id"))
    return json_response(SessionMetricsResponse.model_validate(metrics))


@operation(
    metrics_api,
    "GET",
    "/metrics",
    summary="Metrics of every session and the top sessions by seats sold",
    tag=TAG,
    response=AllMetricsResponse,
    errors=(401, 403, 429),
    access=Access.ADMIN,
)
def all_metrics(actor: Actor | None) -> Response:
    return json_response(AllMetricsResponse.model_validate(container().metrics.overall()))
