"""Routes for the metrics projection and the audit trail (both built by Kafka consumers)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import Access, Actor
from chalicelib.api.http import json_response, path_uuid
from chalicelib.api.reservations import owner_of
from chalicelib.api.routing import operation
from chalicelib.api.schemas import AllMetricsResponse, AuditEventResponse, SessionMetricsResponse
from chalicelib.bootstrap import container

metrics_api = Blueprint(__name__)


@operation(
    metrics_api,
    "GET",
    "/sessions/{session_id}/metrics",
    summary="Daily and lifetime sales metrics of a session",
    tag="metrics",
    response=SessionMetricsResponse,
    errors=(400, 401, 403, 404, 429),
    access=Access.ADMIN,
)
def session_metrics(actor: Actor | None, session_id: str) -> Response:
    return json_response(SessionMetricsResponse.of(container().metrics.for_session(path_uuid(session_id, "id"))))


@operation(
    metrics_api,
    "GET",
    "/metrics",
    summary="Metrics of every session and the top sessions by seats sold",
    tag="metrics",
    response=AllMetricsResponse,
    errors=(401, 403, 429),
    access=Access.ADMIN,
)
def all_metrics(actor: Actor | None) -> Response:
    return json_response(AllMetricsResponse.of(container().metrics.overall()))


@operation(
    metrics_api,
    "GET",
    "/reservations/{reservation_id}/events",
    summary="Audit trail of a reservation",
    tag="reservations",
    response=AuditEventResponse,
    many=True,
    errors=(400, 401, 404, 429),
    access=Access.USER,
)
def reservation_audit(actor: Actor | None, reservation_id: str) -> Response:
    """Admins read any reservation's trail; everyone else only their own."""
    reader = None if actor is not None and actor.is_admin else owner_of(actor)
    rows = container().metrics.audit_of_reservation(path_uuid(reservation_id, "id"), reader)
    return json_response(
        [
            AuditEventResponse(
                eventId=row["event_id"],
                type=row["event_type"],
                occurredAt=row["occurred_at"],
                recordedAt=row["recorded_at"],
                event=row["payload"],
            )
            for row in rows
        ]
    )
