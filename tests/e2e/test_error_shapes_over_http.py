"""The answers a client of ``make run`` gets for refused requests, over real HTTP through the
nginx edge and the API processes: the app's and the edge's own answers are in the error shape
``{"statusCode", "error", "message"}``; the answers API Gateway owns keep its shape."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from tests.api_client import session_body
from tests.e2e.conftest import api_instances
from tests.helpers import assert_error_shape

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with api_instances(1) as (base,):
        yield base


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes no HTTP client would send, and read one answer."""
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body


def assert_json_error(response: httpx.Response, expected: int) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert_error_shape(response.status_code, body, expected)
    return body


@pytest.mark.parametrize("method", ["FOO", "PUT", "PROPFIND"])
def test_an_unknown_method_on_a_route_is_the_apps_405(url, method):
    response = httpx.request(method, f"{url}/sessions", timeout=10)
    assert_json_error(response, 405)
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


def test_trace_is_the_edges_405(url):
    response = httpx.request("TRACE", f"{url}/sessions", timeout=10)
    assert_json_error(response, 405)


def test_a_body_that_is_not_json_is_the_apps_415(url):
    response = httpx.post(f"{url}/sessions", content=b"movieName=x", headers={"Content-Type": "text/plain"}, timeout=10)
    assert_json_error(response, 415)


def test_oversized_headers_are_the_edges_431(url):
    response = httpx.get(f"{url}/sessions", headers={"X-Padding": "a" * 20_000}, timeout=10)
    assert_json_error(response, 431)


def test_an_overlong_uri_is_the_edges_414(url):
    response = httpx.get(f"{url}/sessions?movie={'a' * 20_000}", timeout=10)
    assert_json_error(response, 414)


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1, 2"])
def test_a_malformed_content_length_is_the_edges_400(url, length):
    host = urlparse(url).netloc.encode()
    status, headers, body = raw_request(
        url,
        b"POST /sessions HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\n{}",
    )
    assert headers["content-type"].startswith("application/json")
    assert_error_shape(status, json.loads(body), 400)


def test_a_content_length_past_the_limit_is_the_edges_413_before_any_body(url):
    host = urlparse(url).netloc.encode()
    status, headers, body = raw_request(
        url,
        b"POST /sessions HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999999\r\nConnection: close\r\n\r\n{",
    )
    assert headers["content-type"].startswith("application/json")
    assert_error_shape(status, json.loads(body), 413)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 8000 + "]" * 8000,
        json.dumps(session_body(movieName="nul\u0000byte")),
        json.dumps(session_body(roomNumber="Sala\u00001")),
        json.dumps(session_body(ticketPrice="\u0662\u0665")),
    ],
)
def test_hostile_bodies_are_the_apps_400_through_the_whole_stack(url, body):
    response = httpx.post(
        f"{url}/sessions", content=body.encode(), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert_json_error(response, 400)


def test_an_unknown_route_keeps_api_gateways_403(url):
    response = httpx.get(f"{url}/no-such-route", timeout=10)
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})
