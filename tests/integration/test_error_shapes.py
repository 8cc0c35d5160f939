"""Every answer the app gives for a refused request uses the README's error shape, including
the ones Chalice itself makes (405, 415); the answers API Gateway owns keep API Gateway's
shape, as clients in AWS will see them."""

from __future__ import annotations

import json
import socket

import pytest

from chalicelib.bootstrap import reset_container
from tests.helpers import assert_error_shape


def raw(chalice_client, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    response = chalice_client.http.request(method, path, headers=headers or {}, body=body)
    return response.status_code, response.body, response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("FOO", "/sessions"),
        ("PUT", "/sessions"),
        ("POST", "/health"),
        ("PATCH", "/reservations/7e0b1c43-0ab1-4a8c-9f1a-6c2f4c0b2b1e"),
    ],
)
def test_a_method_the_route_does_not_have_is_a_405_in_the_error_shape(chalice_client, method, path):
    status, body, headers = raw(chalice_client, method, path, b"{}", {"Content-Type": "application/json"})
    assert_error_shape(status, json.loads(body), 405)
    assert headers["Content-Type"] == "application/json"
    assert set(headers["Allow"].replace(" ", "").split(",")) >= {"GET"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_a_415_in_the_error_shape(chalice_client, api, content_type):
    status, body, headers = raw(chalice_client, "POST", "/sessions", b"movieName=x", {"Content-Type": content_type})
    assert_error_shape(status, json.loads(body), 415)
    assert content_type in json.loads(body)["message"]
    assert headers["Content-Type"] == "application/json"


def test_answers_api_gateway_owns_keep_its_shape(chalice_client):
    # An unknown path: API Gateway's 403, which chalice local reproduces.
    status, body, _ = raw(chalice_client, "GET", "/no-such-route")
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_503_says_what_is_down_and_when_to_retry(api, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    reset_container()
    status, body, headers = api.get("/health")
    assert status == 503
    assert body["status"] == "degraded" and "redis" in body["down"] and body["checks"]["redis"] == "down"
    # The health report is also an error in the usual shape.
    assert body["statusCode"] == 503 and body["error"] == "Service Unavailable" and "redis" in body["message"]
    assert int(headers["Retry-After"]) >= 1
    assert headers["Content-Type"] == "application/json"
