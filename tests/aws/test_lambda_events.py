"""The deployed handlers, called the way Lambda calls them, with the events AWS sends.

``Handler: app.app`` means Lambda calls ``app(event, context)`` with an API Gateway REST
(v1) proxy event; the scheduled functions get EventBridge's scheduled event. Lambda code
cannot run inside moto or LocalStack on this machine (no Docker), so this is where the
handlers meet real event shapes. The database-backed cases use the local PostgreSQL and
Redis that ``make test`` starts.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import app
from chalicelib.bootstrap import reset_container
from chalicelib.jobs.scheduled import expire_reservations
from tests.api_client import session_body

API_ID = "a1b2c3d4e5"
STAGE = "test"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


class LambdaContext:
    """What the Python runtime passes as ``context``."""

    def __init__(self, function: str = "api_handler", timeout_seconds: float = 29.0) -> None:
        self.function_name = f"cinema-ticketing-{STAGE}-{function}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.memory_limit_in_mb = "512"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"2026/11/29/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(
    method: str,
    resource: str,
    path: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload format 1.0), as API Gateway sends it."""
    headers = {
        "Accept": "application/json",
        "Host": DOMAIN,
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": "Root=1-6749f0a0-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "x1y2z3",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "CtWd3FfroAMEZ4w=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{STAGE}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "curl/8.5.0",
                "user": None,
            },
            "domainName": DOMAIN,
            "apiId": API_ID,
        },
        "body": base64.b64encode(body.encode()).decode() if body is not None and base64_body else body,
        "isBase64Encoded": base64_body,
    }


def invoke(event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    response = app(event, LambdaContext())
    # The proxy integration's contract: statusCode, headers, body (a string).
    assert isinstance(response["statusCode"], int)
    assert isinstance(response["body"], str)
    assert not response.get("isBase64Encoded", False)
    payload = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], payload, response["headers"]


@pytest.fixture(autouse=True)
def _fresh_services() -> Iterator[None]:
    reset_container()
    yield
    reset_container()


def test_a_non_uuid_id_is_a_400_json_error_without_touching_the_database(monkeypatch):
    # Nothing listens there: the answer must come before any database access.
    monkeypatch.setenv("DATABASE_URL", "postgresql://cinema:cinema@127.0.0.1:9/nowhere")
    reset_container()
    event = proxy_event(
        "GET", "/sessions/{session_id}", "/sessions/not-a-uuid", path_parameters={"session_id": "not-a-uuid"}
    )

    status, payload, headers = invoke(event)

    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert payload["statusCode"] == 400
    assert payload["error"] == "Bad Request"
    assert "UUID" in payload["message"]


def test_malformed_json_is_a_400(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://cinema:cinema@127.0.0.1:9/nowhere")
    reset_container()
    status, payload, _ = invoke(proxy_event("POST", "/sessions", "/sessions", body='{"movieName": '))
    assert status == 400
    assert payload["statusCode"] == 400
    assert payload["error"] == "Bad Request"


def test_a_session_round_trip_through_proxy_events():
    movie = f"Proxy Event {uuid.uuid4().hex[:8]}"  # the test database is shared: find ours by name
    body = json.dumps(session_body(movieName=movie, totalSeats=16))
    status, created, headers = invoke(proxy_event("POST", "/sessions", "/sessions", body=body, base64_body=True))
    assert status == 201, created
    assert headers["Content-Type"] == "application/json"
    assert created["movieName"] == movie
    session_id = created["id"]

    path_parameters = {"session_id": session_id}
    status, fetched, _ = invoke(
        proxy_event("GET", "/sessions/{session_id}", f"/sessions/{session_id}", path_parameters=path_parameters)
    )
    assert status == 200
    assert fetched["id"] == session_id

    status, seats, _ = invoke(
        proxy_event(
            "GET", "/sessions/{session_id}/seats", f"/sessions/{session_id}/seats", path_parameters=path_parameters
        )
    )
    assert status == 200
    assert len(seats) == 16
    assert {seat["status"] for seat in seats} == {"available"}

    status, page, _ = invoke(proxy_event("GET", "/sessions", "/sessions", query={"limit": "500", "movie": movie}))
    assert status == 200
    assert session_id in {item["id"] for item in page}

    status, bad_page, _ = invoke(proxy_event("GET", "/sessions", "/sessions", query={"limit": "0"}))
    assert status == 400, bad_page

    status, gone, _ = invoke(
        proxy_event("DELETE", "/sessions/{session_id}", f"/sessions/{session_id}", path_parameters=path_parameters)
    )
    assert status == 204
    assert gone is None
    status, _, _ = invoke(
        proxy_event("GET", "/sessions/{session_id}", f"/sessions/{session_id}", path_parameters=path_parameters)
    )
    assert status == 404


def test_the_sweeper_answers_an_eventbridge_scheduled_event():
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/cinema-ticketing-{STAGE}-expire_reservations"],
        "detail": {},
    }
    result = expire_reservations(event, LambdaContext("expire_reservations", 50))
    assert isinstance(result["expired"], int)
    assert result["expired"] >= 0
