"""Routes for the metrics projection and the audit trail (both built by Kafka consumers)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, json_response, path_uuid
from chalicelib.api.schemas import AllMetricsResponse, AuditEventResponse, SessionMetricsResponse
from chalicelib.bootstrap import container

metrics_api = Blueprint(__name__)


@metrics_api.route("/sessions/{session_id}/metrics", methods=["GET"])
@endpoint
def session_metrics(session_id: str) -> Response:
    return json_response(SessionMetricsResponse.of(container().metrics.for_session(path_uuid(session_id, "id"))))


@metrics_api.route("/metrics", methods=["GET"])
@endpoint
def all_metrics() -> Response:
    return json_response(AllMetricsResponse.of(container().metrics.overall()))


@metrics_api.route("/reservations/{reservation_id}/events", methods=["GET"])
@endpoint
def reservation_audit(reservation_id: str) -> Response:
    rows = container().metrics.audit_of_reservation(path_uuid(reservation_id, "id"))
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
