"""X-Ray, as Lambda runs the app with tracing on: a hold's invocation sends the X-Ray daemon
(here, a UDP socket of the test's) a handler subsegment with PostgreSQL, Redis and Kafka
subsegments under it.

Tracing is decided when the app is imported (Powertools turns it off outside Lambda), so the
invocations run in a child process with Lambda's environment: LAMBDA_TASK_ROOT, the trace
header Lambda passes in _X_AMZN_TRACE_ID, and AWS_XRAY_DAEMON_ADDRESS.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRACE_ROOT = "1-67000000-0123456789abcdef01234567"
FUNCTION_SEGMENT = "53995c3f42cd8ad8"  # Lambda's segment of the invocation, the parent of the app's

# Three invocations of the API function: create a session, read its seats, hold two of them.
INVOCATIONS = """
import json, uuid
from app import app
from tests.aws.test_lambda_events import LambdaContext, proxy_event
from tests.api_client import session_body

def call(*args, **kwargs):
    response = app(proxy_event(*args, **kwargs), LambdaContext())
    return response["statusCode"], json.loads(response["body"])

status, session = call("POST", "/sessions", "/sessions", body=json.dumps(session_body(totalSeats=16)))
assert status == 201, session
sid = session["id"]
status, seats = call("GET", "/sessions/{session_id}/seats", f"/sessions/{sid}/seats",
                     path_parameters={"session_id": sid})
assert status == 200, seats
user = f"traced-{uuid.uuid4().hex[:8]}"
body = {"sessionId": sid, "seatIds": [s["id"] for s in seats[:2]], "userId": user, "userEmail": f"{user}@example.com"}
status, held = call("POST", "/reservations", "/reservations", body=json.dumps(body))
assert status == 201, held
"""


def _documents(datagrams: list[bytes]) -> list[dict[str, Any]]:
    documents = []
    for datagram in datagrams:
        header, _, document = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(document))
    return documents


def test_a_hold_is_traced_down_to_postgresql_redis_and_kafka():
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(0.5)
    config = json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text())
    env = {
        **os.environ,
        **config["environment_variables"],  # what every function of every stage gets
        "LAMBDA_TASK_ROOT": str(PROJECT_ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "cinema-ticketing-test-APIHandler",
        "_X_AMZN_TRACE_ID": f"Root={TRACE_ROOT};Parent={FUNCTION_SEGMENT};Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_XRAY_CONTEXT_MISSING": "RUNTIME_ERROR",  # a subsegment without a segment fails loudly
    }
    try:
        run = subprocess.run(
            [sys.executable, "-c", INVOCATIONS], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr[-3000:]
        datagrams = []
        while True:
            try:
                datagrams.append(daemon.recv(65536))
            except TimeoutError:
                break
    finally:
        daemon.close()

    subsegments = _documents(datagrams)
    assert subsegments and {s["trace_id"] for s in subsegments} == {TRACE_ROOT}
    assert all(s.get("end_time") for s in subsegments), "every subsegment was closed"
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for subsegment in subsegments:
        children[subsegment["parent_id"]].append(subsegment)
    invocations = children[FUNCTION_SEGMENT]
    # Named after the function (tests.aws.test_lambda_events.LambdaContext), as X-Ray lists them.
    assert [s["name"] for s in invocations] == ["## cinema-ticketing-test-api_handler"] * 3, invocations
    # Responses carry user emails and can be a whole seat map: never copied into X-Ray.
    assert not any("response" in str(s.get("metadata", {})) for s in invocations), invocations[0]

    def below(parent: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for child in children[parent["id"]]:
            found += [child, *below(child)]
        return found

    hold = below(invocations[-1])
    assert {"PostgreSQL", "Redis", "Kafka"} <= {s["name"] for s in hold}, [s["name"] for s in hold]
    postgres = next(s for s in hold if s["name"] == "PostgreSQL")
    assert any(s.get("namespace") == "remote" and "sql" in s for s in below(postgres)), below(postgres)
