"""Routes for movie sessions and their seat maps."""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Blueprint, Response

from chalicelib.api.auth import Access
from chalicelib.api.http import json_response, parse_body, path_uuid, query_datetime, query_text, request_url
from chalicelib.api.routing import Page, QueryParam, operation
from chalicelib.api.schemas import CreateSessionRequest, SeatResponse, SessionResponse, UpdateSessionRequest
from chalicelib.bootstrap import container
from chalicelib.domain.actors import Actor
from chalicelib.services.sessions import NewSession, ProgrammeQuery, SessionChanges

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
    created = container().sessions.create(NewSession(**body.model_dump()))
    return json_response(SessionResponse.model_validate(created), status=201)


MOVIE_FILTER_MAX_LENGTH = 255
PROGRAMME_QUERY = (
    QueryParam(
        "from",
        "sessions that end after this instant (default: now); a past instant reaches ended sessions",
        schema={"type": "string", "format": "date-time"},
    ),
    QueryParam("to", "sessions that start before this instant", schema={"type": "string", "format": "date-time"}),
    QueryParam(
        "movie",
        "sessions whose movie name contains this text, ignoring case (empty: no filter)",
        schema={"type": "string", "maxLength": MOVIE_FILTER_MAX_LENGTH},
    ),
)


@operation(
    sessions_api,
    "GET",
    "/sessions",
    summary="The programme: sessions not ended yet, in start order, with live availability",
    tag=TAG,
    response=SessionResponse,
    many=True,
    errors=(400, 429),
    paged=True,
    query=PROGRAMME_QUERY,
)
def list_sessions(actor: Actor | None, page: Page) -> Response:
    request = sessions_api.current_request
    params: Mapping[str, str] = request.query_params or {}
    query = ProgrammeQuery(
        limit=page.limit,
        offset=page.offset,
        ends_after=query_datetime(params, "from"),
        starts_before=query_datetime(params, "to"),
        movie=query_text(params, "movie", MOVIE_FILTER_MAX_LENGTH),
    )
    programme = container().sessions.programme(query)
    response = json_response([SessionResponse.model_validate(s) for s in programme.sessions])
    response.headers["X-Total-Count"] = str(programme.total)
    following = query.offset + len(programme.sessions)
    if programme.sessions and following < programme.total:
        next_params = {**params, "limit": str(query.limit), "offset": str(following)}
        response.headers["Link"] = f'<{request_url(request, next_params)}>; rel="next"'
    return response


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
    return json_response(SessionResponse.model_validate(container().sessions.get(path_uuid(session_id, "id"))))


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
    updated = container().sessions.update(target, SessionChanges(**body.model_dump(exclude_unset=True)))
    return json_response(SessionResponse.model_validate(updated))


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
    """Answers 304 to a matching If-None-Match after one aggregate query, without reading the
    seats out: a page polling an unchanged map costs a digest, not the map."""
    target = path_uuid(session_id, "id")
    sessions = container().sessions
    if_none_match = sessions_api.current_request.headers.get("if-none-match")
    if if_none_match:
        tag = seat_map_tag(sessions.seat_map_version(target))
        if tag_matches(if_none_match, tag):
            return Response(body="", status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
    seat_map = sessions.seat_map(target)
    response = json_response([SeatResponse.model_validate(seat) for seat in seat_map.seats])
    response.headers["ETag"] = seat_map_tag(seat_map.version)
    response.headers["Cache-Control"] = "no-cache"
    return response


# Part of every seat-map tag: bump it when SeatResponse starts showing the same rows differently,
# so that tags handed out before the change stop matching.
SEAT_MAP_FORMAT = "2"  # 2: reservationId is always null


def seat_map_tag(version: str) -> str:
    return f'"{SEAT_MAP_FORMAT}-{version}"'


def tag_matches(if_none_match: str, tag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    candidates = [candidate.strip() for candidate in if_none_match.split(",")]
    return "*" in candidates or tag in {candidate.removeprefix("W/") for candidate in candidates}
