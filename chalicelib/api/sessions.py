"""Routes for movie sessions and their seat maps."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, json_response, parse_body, path_uuid, query_int
from chalicelib.api.schemas import CreateSessionRequest, SeatResponse, SessionResponse, UpdateSessionRequest
from chalicelib.bootstrap import container
from chalicelib.services.sessions import NewSession, SessionChanges

sessions_api = Blueprint(__name__)


@sessions_api.route("/sessions", methods=["POST"])
@endpoint
def create_session() -> Response:
    body = parse_body(sessions_api.current_request.raw_body, CreateSessionRequest)
    created = container().sessions.create(
        NewSession(
            movie_name=body.movieName,
            room_number=body.roomNumber,
            start_time=body.startTime,
            end_time=body.endTime,
            ticket_price=body.ticketPrice,
            total_seats=body.totalSeats,
        )
    )
    return json_response(SessionResponse.of(created), status=201)


@sessions_api.route("/sessions", methods=["GET"])
@endpoint
def list_sessions() -> Response:
    params = sessions_api.current_request.query_params
    limit = query_int(params, "limit", default=100, low=1, high=500)
    offset = query_int(params, "offset", default=0, low=0, high=1_000_000)
    return json_response([SessionResponse.of(s) for s in container().sessions.page(limit=limit, offset=offset)])


@sessions_api.route("/sessions/{session_id}", methods=["GET"])
@endpoint
def get_session(session_id: str) -> Response:
    return json_response(SessionResponse.of(container().sessions.get(path_uuid(session_id, "id"))))


@sessions_api.route("/sessions/{session_id}", methods=["PATCH"])
@endpoint
def update_session(session_id: str) -> Response:
    target = path_uuid(session_id, "id")
    body = parse_body(sessions_api.current_request.raw_body, UpdateSessionRequest)
    updated = container().sessions.update(
        target,
        SessionChanges(
            movie_name=body.movieName,
            room_number=body.roomNumber,
            start_time=body.startTime,
            end_time=body.endTime,
            ticket_price=body.ticketPrice,
            total_seats=body.totalSeats,
        ),
    )
    return json_response(SessionResponse.of(updated))


@sessions_api.route("/sessions/{session_id}", methods=["DELETE"])
@endpoint
def delete_session(session_id: str) -> Response:
    container().sessions.delete(path_uuid(session_id, "id"))
    return json_response(None, status=204)


@sessions_api.route("/sessions/{session_id}/seats", methods=["GET"])
@endpoint
def list_seats(session_id: str) -> Response:
    seats = container().sessions.seats(path_uuid(session_id, "id"))
    return json_response([SeatResponse.of(seat) for seat in seats])
