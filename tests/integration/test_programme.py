"""GET /sessions, the programme: sessions that have not ended, in start order, filtered by
``from``/``to``/``movie`` and paged with ``X-Total-Count`` and a ``Link: rel="next"``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.helpers import db_execute

SESSION_FIELDS = {
    "id",
    "movieName",
    "roomNumber",
    "startTime",
    "endTime",
    "ticketPrice",
    "totalSeats",
    "availableSeats",
    "createdAt",
    "updatedAt",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hours(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=n)


def place(session_id: str, start: datetime, end: datetime) -> None:
    """Move a session in time (the API only creates future sessions)."""
    db_execute("UPDATE movie_sessions SET start_time = %s, end_time = %s WHERE id = %s", (start, end, session_id))


@pytest.fixture
def movie() -> str:
    """A movie name of the test's own: the shared test database holds other tests' sessions."""
    return f"Programme {uuid.uuid4().hex[:10]}"


@pytest.fixture
def timeline(api, movie):
    """Four sessions of one movie: ended, running now, later today, next week."""
    made = {}
    for name, start, end in (
        ("ended", hours(-5), hours(-3)),
        ("running", hours(-1), hours(1)),
        ("later", hours(3), hours(5)),
        ("next_week", hours(24 * 7), hours(24 * 7 + 2)),
    ):
        session = api.new_session(movieName=movie)
        place(session["id"], start, end)
        made[name] = session["id"]
    return made


def listed(api, query: str) -> tuple[list[str], dict]:
    status, page, headers = api.get(f"/sessions?{query}")
    assert status == 200, page
    return [s["id"] for s in page], headers


def test_by_default_only_sessions_that_have_not_ended_in_start_order(api, movie, timeline):
    ids, headers = listed(api, f"movie={quote(movie)}")
    assert ids == [timeline["running"], timeline["later"], timeline["next_week"]]
    assert headers["X-Total-Count"] == "3"
    assert "Link" not in headers


def test_a_past_from_reaches_ended_sessions(api, movie, timeline):
    ids, _ = listed(api, f"movie={quote(movie)}&from={quote(iso(hours(-4)))}")
    assert ids == [timeline["ended"], timeline["running"], timeline["later"], timeline["next_week"]]
    ids, _ = listed(api, f"movie={quote(movie)}&from={quote(iso(hours(-2)))}")
    assert ids == [timeline["running"], timeline["later"], timeline["next_week"]]
    everything, _ = listed(api, f"movie={quote(movie)}&from=1970-01-01T00:00:00Z")
    assert len(everything) == 4


def test_from_and_to_select_the_sessions_that_overlap_the_window(api, movie, timeline):
    # A session is in [from, to) when it ends after `from` and starts before `to`.
    ids, _ = listed(api, f"movie={quote(movie)}&from={quote(iso(hours(2)))}&to={quote(iso(hours(4)))}")
    assert ids == [timeline["later"]]
    ids, _ = listed(api, f"movie={quote(movie)}&to={quote(iso(hours(2)))}")
    assert ids == [timeline["running"]]
    ids, _ = listed(api, f"movie={quote(movie)}&from={quote(iso(hours(4.5)))}")
    assert ids == [timeline["later"], timeline["next_week"]]
    # Offsets other than Z are accepted (+ must be sent as %2B in a query string).
    plus_two = hours(4.5).astimezone(timezone(timedelta(hours=2)))
    ids, _ = listed(api, f"movie={quote(movie)}&from={quote(plus_two.isoformat())}")
    assert ids == [timeline["later"], timeline["next_week"]]


def test_movie_matches_part_of_the_name_ignoring_case_and_wildcards(api, movie):
    shouting = api.new_session(movieName=f"{movie.upper()} 100%_REAL")
    quiet = api.new_session(movieName=f"{movie} director's cut")
    ids, _ = listed(api, f"movie={quote(movie.lower())}")
    assert set(ids) == {shouting["id"], quiet["id"]}
    tag = movie.rsplit(" ", 1)[1]
    ids, _ = listed(api, f"movie={quote(tag + ' 100%_real')}")
    assert ids == [shouting["id"]]
    # % and _ are plain characters, not LIKE wildcards.
    assert listed(api, f"movie={quote(tag + ' 1%real')}")[0] == []
    assert listed(api, f"movie={quote(tag + ' 100__real')}")[0] == []
    ids, _ = listed(api, f"movie={quote(movie + ' d')}")
    assert ids == [quiet["id"]]
    # An empty movie filter is no filter.
    status, _, _ = api.get("/sessions?movie=&limit=1")
    assert status == 200


def test_paging_counts_everything_and_links_the_next_page(api, movie):
    created = []
    for offset_hours in (30, 10, 20, 50, 40):
        session = api.new_session(movieName=movie)
        place(session["id"], hours(offset_hours), hours(offset_hours + 2))
        created.append((offset_hours, session["id"]))
    in_order = [session_id for _, session_id in sorted(created)]

    status, first, headers = api.get(f"/sessions?movie={quote(movie)}&limit=2")
    assert status == 200 and [s["id"] for s in first] == in_order[:2]
    assert headers["X-Total-Count"] == "5"
    link = headers["Link"]
    assert link.startswith("<http") and link.endswith('>; rel="next"'), link
    next_url = urlparse(link[1 : link.index(">")])
    assert next_url.path == "/sessions"
    assert parse_qs(next_url.query) == {"movie": [movie], "limit": ["2"], "offset": ["2"]}

    seen = [s["id"] for s in first]
    while "Link" in headers:
        target = urlparse(headers["Link"][1 : headers["Link"].index(">")])
        status, page, headers = api.get(f"{target.path}?{target.query}")
        assert status == 200 and headers["X-Total-Count"] == "5"
        seen += [s["id"] for s in page]
    assert seen == in_order

    status, beyond, headers = api.get(f"/sessions?movie={quote(movie)}&offset=10")
    assert status == 200 and beyond == [] and headers["X-Total-Count"] == "5" and "Link" not in headers


def test_the_answer_keeps_the_original_shape(api, movie):
    session = api.new_session(movieName=movie, totalSeats=16)
    status, page, headers = api.get(f"/sessions?movie={quote(movie)}")
    assert status == 200 and isinstance(page, list) and len(page) == 1
    assert set(page[0]) == SESSION_FIELDS
    assert page[0] == {**session, "availableSeats": 16}
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("from=yesterday", "from must be a date-time"),
        ("from=2026-02-10T19:00:00", "time zone"),  # no zone: ambiguous
        ("from=2026-02-10", "from must be a date-time"),
        ("to=2026-02-30T19:00:00Z", "to must be a date-time"),
        ("from=2026-02-10T19:00:00%2B25:00", "from must be a date-time"),
        ("from=0001-01-01T00:00:00%2B01:00", "from must be a date-time"),  # before year 1 in UTC
        ("from=", "from must be a date-time"),
        ("from=%D9%A2%D9%A0%D9%A2%D9%A6-01-01T00:00:00Z", "from must be a date-time"),  # Arabic-Indic digits
        ("from=2026-02-10T19:00:00Z&to=2026-02-10T18:00:00Z", "from must be before to"),
        ("from=2026-02-10T19:00:00Z&to=2026-02-10T19:00:00Z", "from must be before to"),
        ("movie=" + "x" * 256, "at most 255"),
        ("movie=a%00b", "control characters"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_invalid_filters_are_400_in_the_error_shape(api, query, fragment):
    status, error, _ = api.get(f"/sessions?{query}")
    assert status == 400, error
    assert error["statusCode"] == 400 and error["error"] == "Bad Request"
    assert fragment in error["message"], error


def test_the_openapi_document_describes_the_filters(api):
    status, document, _ = api.get("/openapi.json")
    assert status == 200
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/sessions"]["get"]["parameters"]}
    assert parameters["from"] == {"type": "string", "format": "date-time"}
    assert parameters["to"] == {"type": "string", "format": "date-time"}
    assert parameters["movie"] == {"type": "string", "maxLength": 255}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
