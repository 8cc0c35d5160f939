"""Inputs from a black-box probe (and the fuzzer that followed it) that reached a 500 or were
stored when they should have been refused: deep JSON, NUL and other control characters,
digits that are not ASCII, numbers too large to convert. Each must be a 400 in the error
shape that changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.adapters.database import Database
from chalicelib.api.http import MAX_JSON_DEPTH
from chalicelib.config import get_settings
from chalicelib.domain.errors import InvalidRequest
from tests.api_client import session_body
from tests.helpers import assert_error_shape, db_rows


def sessions_named(name: str) -> int:
    return len(db_rows("SELECT 1 FROM movie_sessions WHERE movie_name = %s", (name,)))


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


# --------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/reservations", nested(8000)),
        ("post", "/reservations", '{"seatIds": ' + nested(7000) + "}"),
        ("post", "/sessions", nested(8000)),
        ("post", "/sessions", '{"movieName": ' + '{"a":' * 2500 + "1" + "}" * 2500 + "}"),
        ("post", "/sales", nested(8000)),
        ("patch", "/sessions/{session}", '{"movieName": ' + nested(7000) + "}"),
    ],
)
def test_deeply_nested_json_is_a_400(api, method, path, body):
    assert len(body) < 16 * 1024
    session = api.new_session()
    status, error, _ = getattr(api, method)(path.format(session=session["id"]), body)
    assert_error_shape(status, error, 400)
    assert "nested" in error["message"]


def test_nesting_is_refused_past_the_limit_before_the_parser_descends(api):
    """One level past the limit is refused for its depth, not for what the parser would
    make of it: the limit is checked before parsing, so no depth reaches the parser."""
    session = api.new_session()
    seat = api.seats(session["id"])[0]["id"]
    inner = json.dumps(seat)
    body = {"sessionId": session["id"], "userId": "deep", "userEmail": "deep@example.com", "seatIds": "@"}
    at_limit = json.dumps(body).replace('"@"', nested(MAX_JSON_DEPTH - 1, inner))
    status, error, _ = api.post("/reservations", at_limit)
    assert status == 400 and "nested" not in error["message"]  # seatIds holds lists, not ids

    past_limit = json.dumps(body).replace('"@"', nested(MAX_JSON_DEPTH, inner))
    status, error, _ = api.post("/reservations", past_limit)
    assert_error_shape(status, error, 400)
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in error["message"]
    # Brackets inside strings are text, not nesting.
    name = "[" * 100 + uuid.uuid4().hex
    status, created, _ = api.post("/sessions", session_body(movieName=name))
    assert status == 201 and created["movieName"] == name


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize("field", ["movieName", "roomNumber"])
@pytest.mark.parametrize("character", ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b"])
def test_control_characters_in_session_text_are_a_400_on_create_and_change(api, field, character):
    marker = f"ctl-{uuid.uuid4().hex[:8]}"
    status, error, _ = api.post("/sessions", {**session_body(movieName=marker), field: f"Sala{character}1"})
    assert_error_shape(status, error, 400)
    assert field in error["message"] and "control characters" in error["message"]
    assert sessions_named(marker) == 0

    session = api.new_session(movieName=marker)
    status, error, _ = api.patch(f"/sessions/{session['id']}", {field: f"x{character}y"})
    assert_error_shape(status, error, 400)
    assert api.get(f"/sessions/{session['id']}")[1] == session


@pytest.mark.parametrize("character", ["\n", "\t", "\u001c", "\u0085"])
def test_control_characters_count_even_where_trimming_would_drop_them(api, character):
    marker = f"trim-{uuid.uuid4().hex[:8]}"
    status, error, _ = api.post("/sessions", session_body(movieName=f"{marker}{character}"))
    assert_error_shape(status, error, 400)
    assert sessions_named(marker) == 0
    status, created, _ = api.post("/sessions", session_body(movieName=f"  {marker}\u00a0 "))
    assert status == 201 and created["movieName"] == marker  # spaces around are trimmed


@pytest.mark.parametrize(
    ("field", "value"), [("userId", "eve\u0000"), ("userId", "eve\u001b[2J"), ("userEmail", "eve\u0000@example.com")]
)
def test_control_characters_in_a_hold_are_a_400(api, field, value):
    session = api.new_session()
    seat = api.seats(session["id"])[0]["id"]
    body = {"sessionId": session["id"], "seatIds": [seat], "userId": "eve", "userEmail": "eve@example.com"}
    status, error, _ = api.post("/reservations", {**body, field: value})
    assert_error_shape(status, error, 400)
    assert db_rows("SELECT 1 FROM reservations WHERE session_id = %s", (session["id"],)) == []
    assert api.seats(session["id"])[0]["status"] == "available"


@pytest.mark.parametrize("movie", ["a%7Fb", "a%C2%85b", "a%C2%9Bb", "%00"])
def test_the_movie_filter_refuses_every_control_character(api, movie):
    status, error, _ = api.get(f"/sessions?movie={movie}")
    assert_error_shape(status, error, 400)


@pytest.mark.parametrize("user", ["a\x00b", "a\x1bb", "a\x7f"])
def test_a_user_id_in_the_path_with_control_characters_is_a_400(api, user):
    # The path parameter as API Gateway hands it over, already decoded.
    status, error, _ = api.get(f"/sales/user/{user}")
    assert_error_shape(status, error, 400)


@pytest.mark.parametrize("asset", ["a" * 300 + ".js", "app\x00.js", "..%2Fapp.js", "app.js\x00"])
def test_a_web_asset_name_that_is_no_file_is_a_404(api, asset):
    status, error, _ = api.get(f"/web/{asset}")
    assert_error_shape(status, error, 404)


def test_a_value_postgresql_cannot_store_is_an_invalid_request_not_a_driver_error():
    """Whatever validation misses, the database layer turns psycopg's DataError into a
    domain error that answers 400."""
    settings = get_settings()
    db = Database(settings.database_url, min_size=0, max_size=1, statement_timeout_ms=5000, lock_timeout_ms=2000)
    try:
        with pytest.raises(InvalidRequest, match="cannot store"), db.transaction() as cur:
            cur.execute("SELECT %s::text", ("nul\x00byte",))
        with pytest.raises(InvalidRequest), db.transaction() as cur:
            cur.execute("SELECT %s::numeric(4,2)", (123456,))
        with db.transaction() as cur:  # the pool is fine afterwards
            cur.execute("SELECT 1 AS one")
            assert cur.fetchone()["one"] == 1
    finally:
        db.close()


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "price",
    [
        "\u0662\u0665",
        "\u0662\u0665.\u0660\u0660",
        "\uff12\uff15",
        "25\u00b2",
        "25_000",
        "1E+1",
        " 25",
        "25.",
        "Infinity",
        "NaN",
    ],
)
def test_money_accepts_only_ascii_digits(api, price):
    marker = f"price-{uuid.uuid4().hex[:8]}"
    status, error, _ = api.post("/sessions", session_body(movieName=marker, ticketPrice=price))
    assert_error_shape(status, error, 400)
    assert "ticketPrice" in error["message"]
    assert sessions_named(marker) == 0
    session = api.new_session()
    status, error, _ = api.patch(f"/sessions/{session['id']}", {"ticketPrice": price})
    assert_error_shape(status, error, 400)
    assert api.get(f"/sessions/{session['id']}")[1]["ticketPrice"] == "25.00"


@pytest.mark.parametrize("price", ["25.00", "25", "0.5", 25, 19.99, "12345678.90"])
def test_money_in_ascii_digits_is_still_accepted(api, price):
    status, session, _ = api.post("/sessions", session_body(ticketPrice=price))
    assert status == 201, session


@pytest.mark.parametrize(
    ("field", "literal"),
    [
        ("totalSeats", "1" * 5000),  # past Python's 4,300-digit limit for int()
        ("ticketPrice", "1e99999999999999999999"),
        ("ticketPrice", "-1e-99999999999999999999"),
        ("ticketPrice", "NaN"),
        ("totalSeats", "Infinity"),
    ],
)
def test_numbers_that_cannot_be_converted_are_a_400(api, field, literal):
    marker = f"num-{uuid.uuid4().hex[:8]}"
    body = json.dumps(session_body(movieName=marker, **{field: "@"})).replace('"@"', literal)
    status, error, _ = api.post("/sessions", body)
    assert_error_shape(status, error, 400)
    assert sessions_named(marker) == 0


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A2", "%EF%BC%92", "1" * 30, "-1", "+5", "%201"])
@pytest.mark.parametrize("name", ["limit", "offset"])
def test_paging_accepts_only_ascii_digits(api, name, value):
    status, error, _ = api.get(f"/sessions?{name}={value}")
    assert_error_shape(status, error, 400)
    assert name in error["message"]


def test_bodies_that_are_not_utf8_are_a_400(api):
    body = json.dumps(session_body()).encode("utf-16")
    status, error, _ = api.post("/sessions", body)
    assert_error_shape(status, error, 400)
    status, error, _ = api.post("/sessions", b'{"movieName": "\xed\xa0\x80"}')
    assert_error_shape(status, error, 400)
