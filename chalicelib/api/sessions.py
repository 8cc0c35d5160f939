"""Routes for movie sessions and their seat maps."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import Access, Actor
from chalicelib.api.http import json_response, parse_body, path_uuid, query_int
from chalicelib.api.routing import PAGING, operation
from chalicelib.api.schemas import CreateSessionRequest, SeatResponse, SessionResponse, UpdateSessionRequest
from chalicelib.bootstrap import container
from chalicelib.services.sessions import NewSession, SessionChanges

sessions_api = Blueprint(__name__)
TAG = "sessions"


@operation(
    sessions_api,
    "POST",
    "/sessions",
    summary="Create a movie session and its seats",
    tag=TAG,
    status=201,
    request=CreateSessionRequest,
    response=SessionResponse,
    errors=(400, 401, 403, 413, 429),
    access=Access.ADMIN,
    links={
        name: {"operationId": name, "parameters": {"session_id": "$response.body#/id"}}
        for name in ("get_session", "list_seats", "update_session", "delete_session")
    },
)
def create_session(actor: Actor | None) -> Response:
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


@operation(
    sessions_api,
    "GET",
    "/sessions",
    summary="List sessions with live availability",
    tag=TAG,
    response=SessionResponse,
    many=True,
    errors=(400, 429),
    query=PAGING,
)
def list_sessions(actor: Actor | None) -> Response:
    params = sessions_api.current_request.query_params
    limit = query_int(params, "limit", default=100, low=1, high=500)
    offset = query_int(params, "offset", default=0, low=0, high=1_000_000)
    return json_response([SessionResponse.of(s) for s in container().sessions.page(limit=limit, offset=offset)])


@operation(
    sessions_api,
    "GET",
    "/sessions/{session_id}",
    summary="Get one session",
    tag=TAG,
    response=SessionResponse,
    errors=(400, 404, 429),
)
def get_session(actor: Actor | None, session_id: str) -> Response:
    return json_response(SessionResponse.of(container().sessions.get(path_uuid(session_id, "id"))))


@operation(
    sessions_api,
    "PATCH",
    "/sessions/{session_id}",
    summary="Change a session",
    tag=TAG,
    request=UpdateSessionRequest,
    response=SessionResponse,
    errors=(400, 401, 403, 404, 409, 413, 429),
    access=Access.ADMIN,
)
def update_session(actor: Actor | None, session_id: str) -> Response:
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


@operation(
    sessions_api,
    "DELETE",
    "/sessions/{session_id}",
    summary="Delete a session without sales or live holds",
    tag=TAG,
    status=204,
    errors=(400, 401, 403, 404, 409, 429),
    access=Access.ADMIN,
)
def delete_session(actor: Actor | None, session_id: str) -> Response:
    container().sessions.delete(path_uuid(session_id, "id"))
    return json_response(None, status=204)


@operation(
    sessions_api,
    "GET",
    "/sessions/{session_id}/seats",
    summary="Seat map with live status",
    tag=TAG,
    response=SeatResponse,
    many=True,
    errors=(400, 404, 429),
)
def list_seats(actor: Actor | None, session_id: str) -> Response:
    seats = container().sessions.seats(path_uuid(session_id, "id"))
    return json_response([SeatResponse.of(seat) for seat in seats])
