"""Routes for seat holds."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, json_response, parse_body, path_uuid
from chalicelib.api.schemas import CreateReservationRequest, ReservationResponse
from chalicelib.bootstrap import container
from chalicelib.services.reservations import HoldRequest

reservations_api = Blueprint(__name__)


@reservations_api.route("/reservations", methods=["POST"])
@endpoint
def create_reservation() -> Response:
    request = reservations_api.current_request
    body = parse_body(request.raw_body, CreateReservationRequest)
    services = container()

    def hold() -> dict:
        reservation = services.reservations.hold(
            HoldRequest(
                session_id=body.sessionId,
                seat_ids=tuple(body.seatIds),
                user_id=body.userId,
                user_email=str(body.userEmail),
            )
        )
        return ReservationResponse.of(reservation).model_dump(mode="json")

    result = services.idempotency.run(
        "create-reservation",
        request.headers.get("idempotency-key"),
        body.userId,
        body.model_dump(mode="json"),
        hold,
    )
    return json_response(result, status=201)


@reservations_api.route("/reservations/{reservation_id}", methods=["GET"])
@endpoint
def get_reservation(reservation_id: str) -> Response:
    reservation = container().reservations.get(path_uuid(reservation_id, "id"))
    return json_response(ReservationResponse.of(reservation))


@reservations_api.route("/reservations/{reservation_id}", methods=["DELETE"])
@endpoint
def cancel_reservation(reservation_id: str) -> Response:
    container().reservations.cancel(path_uuid(reservation_id, "id"))
    return json_response(None, status=204)
