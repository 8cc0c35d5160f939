"""Property-based fuzzing with hostile input, on every route that reads anything from the
client: bodies, path parameters and query parameters get deep nesting, NUL and other control
characters, lone surrogates, bytes that are not UTF-8, numbers too large to convert and values
of the wrong type. Each is invalid for whatever it replaces, so every answer must be a 4xx in
the README's error shape, and the database must not change.

schemathesis (tests/e2e/test_schemathesis.py) generates from the OpenAPI document, so it sends
what the document describes; these strategies send what an attacker would. The runs are
derandomized and bounded, so CI sees the same examples every time; set FUZZ_EXAMPLES to explore
further locally."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.api.http import MAX_JSON_DEPTH
from chalicelib.api.routing import OPERATIONS, IntegerParam
from chalicelib.api.schemas import (
    CreateReservationRequest,
    CreateSaleRequest,
    CreateSessionRequest,
    DevelopmentLoginRequest,
    UpdateSessionRequest,
)
from chalicelib.bootstrap import reset_container
from tests.api_client import ApiClient, InProcess, session_body
from tests.helpers import assert_error_shape, db_rows

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------------------- hostile values

CONTROL = st.characters(categories=["Cc"])
SURROGATE = st.characters(categories=["Cs"])
# Text with at least one character no free-text field accepts.
HOSTILE_TEXT = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=12),
    st.one_of(CONTROL, SURROGATE),
    st.text(max_size=12),
)


def dumps(value: Any) -> bytes:
    # ensure_ascii writes lone surrogates as \ud800 escapes, as a hostile client would.
    return json.dumps(value).encode()


DEEP = st.one_of(
    st.integers(MAX_JSON_DEPTH + 1, 7_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(MAX_JSON_DEPTH + 1, 2_500).map(lambda n: b'{"a":' * n + b"0" + b"}" * n),
    st.integers(MAX_JSON_DEPTH + 1, 3_000).map(lambda n: b'[{"a":' * (n // 2) + b"[]" + b"}]" * (n // 2)),
)
HUGE_NUMBERS = st.one_of(
    st.integers(4_301, 8_000).map(lambda n: b"9" * n),  # past Python's int() digit limit
    st.integers(10**12, 10**40).map(lambda n: str(n).encode()),
    st.integers(-(10**40), 0).map(lambda n: str(n).encode()),
    st.sampled_from([b"1e99999999999999999999", b"-1e-99999999999999999999", b"1e-400", b"1E+308", b"-0.0"]),
    st.decimals(max_value=0, allow_nan=False, allow_infinity=False).map(lambda d: str(d).encode()),
)
NOT_JSON_SCALARS = st.sampled_from(
    [b"NaN", b"Infinity", b"-Infinity", b'"\xff"', b'"\xed\xa0\x80"', b'"\xc0\xaf"', b'"nul\x00raw"', b"'single'"]
)
WRONG_TYPES = st.sampled_from([b"null", b"true", b"false"])
SCALARS = st.one_of(HOSTILE_TEXT.map(dumps), HUGE_NUMBERS, NOT_JSON_SCALARS, WRONG_TYPES)
CONTAINERS = st.one_of(
    st.lists(SCALARS, min_size=1, max_size=3).map(lambda items: b"[" + b",".join(items) + b"]"),
    st.tuples(HOSTILE_TEXT, SCALARS).map(lambda kv: b"{" + dumps(kv[0]) + b":" + kv[1] + b"}"),
)
# Raw JSON text (or what poses as it), invalid for any field of any request.
HOSTILE_VALUE = st.one_of(SCALARS, DEEP, CONTAINERS)

# ----------------------------------------------------------------------------- the target


@dataclass(frozen=True)
class Target:
    """What the fuzzer aims at: a session with a hold, and the moment they were made. A hostile
    request that got through would write to one of them, or after that moment."""

    session_id: str
    seat_id: str
    reservation_id: str
    since: Any


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with pytest.MonkeyPatch.context() as patch:
        # A hold that lapsed mid-run would turn an unrefused payment into a 400 of its own.
        patch.setenv("RESERVATION_TTL_SECONDS", "3600")
        reset_container()
        with Client(app, stage_name="local") as client:
            api = ApiClient(InProcess(client))
            session = api.new_session(movieName=f"fuzz-{uuid.uuid4().hex[:8]}")
            seats = api.seats(session["id"])
            status, held, _ = api.hold(session["id"], [seats[0]["id"]], user="fuzz-owner")
            assert status == 201, held
            since = db_rows("SELECT now() AS now")[0]["now"]
            yield Target(session["id"], seats[1]["id"], held["id"], since)
        reset_container()


@pytest.fixture
def client(target) -> Iterator[Client]:
    with Client(app, stage_name="local") as chalice_client:
        yield chalice_client


def fingerprint(target: Target) -> dict[str, Any]:
    return db_rows(
        """
        SELECT
          (SELECT count(*) FROM movie_sessions WHERE created_at >= %(since)s OR updated_at >= %(since)s) AS sessions,
          (SELECT md5(string_agg(concat_ws('|', id, status, reservation_id, held_until, updated_at), ','
                                 ORDER BY position)) FROM seats WHERE session_id = %(session)s) AS seats,
          (SELECT md5(string_agg(concat_ws('|', id, status, updated_at), ',' ORDER BY id))
             FROM reservations WHERE session_id = %(session)s) AS reservations,
          (SELECT count(*) FROM reservations WHERE created_at >= %(since)s) AS new_reservations,
          (SELECT count(*) FROM sales WHERE reservation_id = %(reservation)s) AS sales,
          (SELECT coalesce(max(id), 0) FROM outbox) AS last_outbox_row
        """,
        {"since": target.since, "session": target.session_id, "reservation": target.reservation_id},
    )[0]


def send(client: Client, method: str, path: str, body: bytes | None = None):
    response = client.http.request(method, path, headers={"Content-Type": "application/json"}, body=body)
    return response.status_code, response.body


def assert_refused_and_nothing_changed(client: Client, target: Target, method: str, path: str, body: bytes | None):
    before = fingerprint(target)
    status, raw = send(client, method, path, body)
    sent = (method, path[:300], body[:300] if body else None)
    assert 400 <= status < 500, (status, raw[:300], sent)
    assert_error_shape(status, json.loads(raw))
    assert fingerprint(target) == before, sent


# ----------------------------------------------------------------------------- bodies


def templates(target: Target) -> dict[type, dict[str, Any]]:
    """A valid body of each request model: the fuzzer spoils one part of it at a time."""
    return {
        CreateSessionRequest: session_body(),
        UpdateSessionRequest: {k: v for k, v in session_body().items() if k != "totalSeats"},
        CreateReservationRequest: {
            "sessionId": target.session_id,
            "seatIds": [target.seat_id],
            "userId": "fuzz-owner",
            "userEmail": "fuzz@example.com",
        },
        CreateSaleRequest: {"reservationId": target.reservation_id},
        DevelopmentLoginRequest: {"userId": "fuzz-owner"},
    }


def body_routes() -> list[tuple[str, str, type]]:
    routes = [(op.method, op.path, op.request) for op in OPERATIONS if op.request is not None]
    return [*routes, ("POST", "/auth/dev-token", DevelopmentLoginRequest)]


PLACEHOLDER = "\u2063fuzz\u2063"


@st.composite
def hostile_bodies(draw, template: dict[str, Any]) -> bytes:
    mode = draw(st.sampled_from(["field", "body", "unknown field"]))
    if mode == "body":
        return draw(HOSTILE_VALUE)
    value = draw(HOSTILE_VALUE)
    if mode == "field":
        document = {**template, draw(st.sampled_from(sorted(template))): PLACEHOLDER}
    else:
        document = {**template, draw(HOSTILE_TEXT): PLACEHOLDER}
    return dumps(document).replace(dumps(PLACEHOLDER), value)


def concrete(path: str, target: Target) -> str:
    return path.format(session_id=target.session_id, reservation_id=target.reservation_id)


@pytest.mark.parametrize(("method", "path", "model"), body_routes(), ids=lambda v: getattr(v, "__name__", v))
def test_hostile_bodies_are_refused_and_change_nothing(client, target, method, path, model):
    template = templates(target)[model]

    @FUZZ
    @given(body=hostile_bodies(template))
    def check(body: bytes) -> None:
        assert_refused_and_nothing_changed(client, target, method, concrete(path, target), body)

    check()


# ----------------------------------------------------------------------------- path parameters

# A path segment as API Gateway hands it to the function, already decoded: anything but the
# characters that would end the segment or the path.
SEGMENT_TEXT = st.text(st.characters(exclude_characters="/?#;\t\r\n", exclude_categories=["Cs"]), max_size=20)
HOSTILE_SEGMENT = st.one_of(
    st.builds(
        lambda before, bad, after, suffix: before + bad + after + suffix,
        SEGMENT_TEXT,
        st.one_of(st.characters(categories=["Cc"], exclude_characters="\t\r\n"), SURROGATE),
        SEGMENT_TEXT,
        st.sampled_from(["", ".js", ".css"]),
    ),
    st.builds(
        lambda text, suffix: text + suffix,
        st.text(st.characters(exclude_characters="/?#;\t\r\n", exclude_categories=["Cs"]), min_size=129, max_size=400),
        st.sampled_from(["", ".js", ".css"]),
    ),
)
PARAMETER = re.compile(r"\{(\w+)\}")


def path_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in app.routes.items() if "{" in path for method in methods)


@pytest.mark.parametrize(("method", "path"), path_routes())
def test_hostile_path_parameters_are_refused_and_change_nothing(client, target, method, path):
    body = None
    if method in ("POST", "PATCH"):
        model = next(op.request for op in OPERATIONS if (op.method, op.path) == (method, path))
        body = dumps(templates(target)[model])
    names = PARAMETER.findall(path)

    @FUZZ
    @given(name=st.sampled_from(names), value=HOSTILE_SEGMENT)
    def check(name: str, value: str) -> None:
        valid = {"session_id": target.session_id, "reservation_id": target.reservation_id, "user_id": "fuzz-owner"}
        concrete_path = path.format(**{**{n: valid.get(n, "x") for n in names}, name: value})
        assert_refused_and_nothing_changed(client, target, method, concrete_path, body)

    check()


# ----------------------------------------------------------------------------- query parameters

NOT_ASCII_DIGITS = st.text(st.characters(categories=["Nd", "No"], exclude_characters="0123456789"), min_size=1)
HOSTILE_QUERY_TEXT = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.characters(categories=["Cc"]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)


def hostile_query_values(param) -> st.SearchStrategy[str]:
    if isinstance(param, IntegerParam):
        return st.one_of(
            HOSTILE_QUERY_TEXT,
            NOT_ASCII_DIGITS,
            st.integers(min_value=param.maximum + 1).map(str),
            st.integers(max_value=param.minimum - 1).map(str),
            st.integers(param.minimum, param.maximum).map(lambda n: f" {n}"),
            st.integers(param.minimum, param.maximum).map(lambda n: f"+{n}"),
            st.just("9" * 5_000),
        )
    if param.schema.get("format") == "date-time":
        return st.one_of(
            HOSTILE_QUERY_TEXT,
            st.datetimes().map(lambda moment: moment.isoformat()),  # no time zone
            st.dates().map(lambda day: day.isoformat()),
            st.just("2026-02-10T19:00:00+99:99"),
        )
    return st.one_of(HOSTILE_QUERY_TEXT, st.text(min_size=param.schema["maxLength"] + 1, max_size=600))


def query_routes() -> list[tuple[str, str, Any]]:
    return [(op.method, op.path, param) for op in OPERATIONS for param in op.query]


@pytest.mark.parametrize(("method", "path", "param"), query_routes(), ids=lambda v: getattr(v, "name", v))
def test_hostile_query_parameters_are_refused_and_change_nothing(client, target, method, path, param):
    concrete_path = path.format(user_id="fuzz-owner", session_id=target.session_id)

    @FUZZ
    @given(value=hostile_query_values(param))
    def check(value: str) -> None:
        query = urlencode({param.name: value}, quote_via=quote)
        assert_refused_and_nothing_changed(client, target, method, f"{concrete_path}?{query}", None)

    check()


# ----------------------------------------------------------------------------- coverage


def test_every_route_that_reads_input_is_fuzzed():
    """A route added later is fuzzed too: it reads a body (and has a template above), a path
    parameter or a query parameter, or it is one of the few that read nothing."""
    reads_nothing = {
        ("GET", "/api-docs"),
        ("GET", "/app"),
        ("GET", "/staff"),
        ("GET", "/openapi.json"),
        ("GET", "/health"),
        ("GET", "/metrics"),
    }
    fuzzed = {(m, p) for m, p, _ in body_routes()} | set(path_routes()) | {(m, p) for m, p, _ in query_routes()}
    every = {(method, path) for path, methods in app.routes.items() for method in methods}
    assert every - fuzzed == reads_nothing
    placeholder_target = Target(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), None)
    assert {model for _, _, model in body_routes()} <= set(templates(placeholder_target))
