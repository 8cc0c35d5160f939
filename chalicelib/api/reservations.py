"""Routes for seat holds and their audit trail."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.adapters.admission import Quotas
from chalicelib.api.auth import Access
from chalicelib.api.http import json_response, parse_body, path_uuid
from chalicelib.api.routing import operation
from chalicelib.api.schemas import AuditEventResponse, CreateReservationRequest, ReservationResponse
from chalicelib.bootstrap import container
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Forbidden
from chalicelib.services.reservations import HoldRequest

reservations_api = Blueprint(__name__)
TAG = "reservations"


def owner_of(actor: Actor | None) -> str | None:
    """Whose objects the caller may see: their own, or anyone's when auth is off."""
    return actor.user_id if actor else None


@operation(
    reservations_api,
    "POST",
    "/reservations",
    summary="Hold seats for RESERVATION_TTL_SECONDS",
    tag=TAG,
    status=201,
    request=CreateReservationRequest,
    response=ReservationResponse,
    errors=(400, 401, 403, 404, 409, 413, 422, 429),
    access=Access.USER,
    idempotent=True,
    quotas_to_view=True,
    links={
        "get_reservation": {"operationId": "get_reservation", "parameters": {"reservation_id": "$response.body#/id"}},
        "cancel_reservation": {
            "operationId": "cancel_reservation",
            "parameters": {"reservation_id": "$response.body#/id"},
        },
        "create_sale": {"operationId": "create_sale", "requestBody": {"reservationId": "$response.body#/id"}},
    },
)
def create_reservation(actor: Actor | None, quotas: Quotas | None) -> Response:
    request = reservations_api.current_request
    body = parse_body(request.raw_body, CreateReservationRequest)
    if actor is not None and body.user_id != actor.user_id:
        raise Forbidden("userId must be the authenticated user")
    services = container()

    def hold() -> dict:
        reservation = services.reservations.hold(
            HoldRequest(
                session_id=body.session_id,
                seat_ids=tuple(body.seat_ids),
                user_id=body.user_id,
                user_email=str(body.user_email),
                quotas=quotas,
            )
        )
        return ReservationResponse.model_validate(reservation).model_dump(mode="json")

    result = services.idempotency.run(
        "create-reservation", request.headers.get("idempotency-key"), body.user_id, body.model_dump(mode="json"), hold
    )
    return json_response(result, status=201)


@operation(
    reservations_api,
    "GET",
    "/reservations/{reservation_id}",
    summary="Get a reservation with its live status",
    tag=TAG,
    response=ReservationResponse,
    errors=(400, 401, 404, 429),
    access=Access.USER,
)
def get_reservation(actor: Actor | None, reservation_id: str) -> Response:
    reservation = container().reservations.get(path_uuid(reservation_id, "id"), owner_of(actor))
    return json_response(ReservationResponse.model_validate(reservation))


@operation(
    reservations_api,
    "DELETE",
    "/reservations/{reservation_id}",
    summary="Cancel a pending reservation",
    tag=TAG,
    status=204,
    errors=(400, 401, 404, 429),
    access=Access.USER,
)
def cancel_reservation(actor: Actor | None, reservation_id: str) -> Response:
    container().reservations.cancel(path_uuid(reservation_id, "id"), owner_of(actor))
    return json_response(None, status=204)


@operation(
    reservations_api,
    "GET",
    "/reservations/{reservation_id}/events",
    summary="Audit trail of a reservation",
    tag=TAG,
    response=AuditEventResponse,
    many=True,
    errors=(400, 401, 404, 429),
    access=Access.USER,
)
def reservation_audit(actor: Actor | None, reservation_id: str) -> Response:
    """Admins read any reservation's trail; everyone else only their own."""
    reader = None if actor is not None and actor.is_admin else owner_of(actor)
    events = container().metrics.audit_of_reservation(path_uuid(reservation_id, "id"), reader)
    return json_response([AuditEventResponse.model_validate(event) for event in events])
