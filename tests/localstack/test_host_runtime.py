"""The host runtime executor itself, through LocalStack's Lambda API: a tiny function made
for these tests (a zip built here) shows the Lambda answers to a handler error, a timeout
and a crash, and that the next invocation works each time."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import textwrap
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localstack.support import Deployment

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 2

HANDLER = textwrap.dedent(
    """
    import os
    import signal
    import sys
    import time

    print("handler module imported")

    def handler(event, context):
        action = event.get("action")
        print(f"action {action} in {context.aws_request_id}")
        if action == "error":
            raise ValueError("boom: " + event.get("message", ""))
        if action == "sleep":
            time.sleep(event["seconds"])
        if action == "exit":
            sys.stdout.flush()
            os._exit(3)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return {
            "pid": os.getpid(),
            "requestId": context.aws_request_id,
            "remainingMs": context.get_remaining_time_in_millis(),
            "functionName": context.function_name,
            "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "taskRoot": os.environ["LAMBDA_TASK_ROOT"],
            "cwd": os.getcwd(),
            "executable": sys.executable,
            "greeting": os.environ.get("GREETING"),
            "event": event,
        }
    """
)


def build_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def wait_active(lam: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        configuration = lam.get_function(FunctionName=name)["Configuration"]
        if configuration.get("State") != "Pending" or time.monotonic() > deadline:
            return configuration
        time.sleep(0.5)


class LambdaFunctions:
    def __init__(self, stack: Deployment) -> None:
        self.lam = stack.client("lambda")
        self.iam = stack.client("iam")
        self.names: list[str] = []
        self.role_name = f"host-runtime-test-{uuid.uuid4().hex[:8]}"
        self.role_arn = self.iam.create_role(
            RoleName=self.role_name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]

    def create(self, handler: str = "handler.handler", runtime: str = "python3.11", **files: str) -> tuple[str, dict]:
        name = f"host-runtime-test-{uuid.uuid4().hex[:8]}"
        self.lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=self.role_arn,
            Handler=handler,
            Code={"ZipFile": build_zip(files or {"handler.py": HANDLER})},
            Timeout=TIMEOUT_SECONDS,
            MemorySize=256,
            Environment={"Variables": {"GREETING": "hello"}},
        )
        self.names.append(name)
        return name, wait_active(self.lam, name)

    def invoke(self, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any, str, float]:
        started = time.monotonic()
        response = self.lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
        elapsed = time.monotonic() - started
        payload = json.loads(response["Payload"].read() or b"null")
        logs = base64.b64decode(response.get("LogResult") or b"").decode()
        return response, payload, logs, elapsed

    def delete(self, name: str) -> None:
        # LocalStack drops a function whose creation failed by itself.
        with contextlib.suppress(self.lam.exceptions.ResourceNotFoundException):
            self.lam.delete_function(FunctionName=name)
        self.names.remove(name)

    def cleanup(self) -> None:
        for name in list(self.names):
            self.delete(name)
        self.iam.delete_role(RoleName=self.role_name)


@pytest.fixture(scope="module")
def functions(localstack: Deployment) -> Iterator[LambdaFunctions]:
    made = LambdaFunctions(localstack)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def function(functions: LambdaFunctions) -> str:
    name, configuration = functions.create()
    assert configuration["State"] == "Active", configuration
    return name


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_handler_runs_as_a_host_process_with_a_lambda_context(functions: LambdaFunctions, function: str):
    response, result, logs, _ = functions.invoke(function, {"hello": "world"})
    assert response["StatusCode"] == 200 and "FunctionError" not in response, result
    assert result["event"] == {"hello": "world"} and result["greeting"] == "hello"
    assert result["functionName"] == function and result["arn"].endswith(f":function:{function}")
    assert str(result["memory"]) == "256"
    assert 0 < result["remainingMs"] <= TIMEOUT_SECONDS * 1000
    # The unpacked code is the task root and the working directory; the interpreter is the
    # project's virtualenv, not LocalStack's.
    assert result["cwd"] == result["taskRoot"] and Path(result["taskRoot"], "handler.py").is_file()
    assert Path(result["executable"]).parent == PROJECT_ROOT / ".venv" / "bin"
    assert Path(result["executable"]).parent == Path(sys.executable).parent
    request_id = result["requestId"]
    # A cold start: what the module printed when it was imported precedes START.
    assert logs.startswith(f"handler module imported\nSTART RequestId: {request_id} Version: $LATEST\n"), logs
    assert "\tInit Duration: " in logs
    assert f"action None in {request_id}\n" in logs
    assert f"END RequestId: {request_id}\n" in logs and f"REPORT RequestId: {request_id}\tDuration: " in logs

    # Warm: the same process answers again, quickly, with a new request id.
    timings = []
    for _ in range(5):
        _, again, _, elapsed = functions.invoke(function, {})
        timings.append(elapsed)
        assert again["pid"] == result["pid"] and again["requestId"] != request_id
    assert min(timings) < 0.5, timings
    print(f"warm invokes through LocalStack's Lambda API: {[round(t * 1000) for t in timings]} ms")


def test_handler_error_gives_the_lambda_error_shape_and_the_process_stays(functions: LambdaFunctions, function: str):
    _, before, _, _ = functions.invoke(function, {})
    response, error, logs, _ = functions.invoke(function, {"action": "error", "message": "bad seat"})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom: bad seat", error
    assert error["requestId"] and isinstance(error["stackTrace"], list)
    assert any("handler.py" in frame and "in handler" in frame for frame in error["stackTrace"]), error
    assert "[ERROR] ValueError: boom: bad seat" in logs and "END RequestId" in logs
    _, after, _, _ = functions.invoke(function, {})
    assert after["pid"] == before["pid"], "a handler error must not cost the warm process"


def test_timeout_kills_the_process_and_the_next_invocation_gets_a_fresh_one(functions: LambdaFunctions, function: str):
    _, before, _, _ = functions.invoke(function, {})
    response, error, logs, elapsed = functions.invoke(function, {"action": "sleep", "seconds": 30})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout", error
    assert error["errorMessage"].endswith(f"Error: Task timed out after {TIMEOUT_SECONDS}.00 seconds"), error
    assert TIMEOUT_SECONDS <= elapsed < TIMEOUT_SECONDS + 5, elapsed
    assert "action sleep in" in logs and f"Task timed out after {TIMEOUT_SECONDS}.00 seconds" in logs, logs
    deadline = time.monotonic() + 5
    while alive(before["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(before["pid"]), "the timed-out process must be gone"

    response, after, _, _ = functions.invoke(function, {})
    assert "FunctionError" not in response, after
    assert after["pid"] != before["pid"]


@pytest.mark.parametrize(
    ("action", "reason"), [("exit", "exit status 3"), ("kill", "signal: killed")], ids=["exit", "sigkill"]
)
def test_a_crash_is_a_runtime_exit_error_and_the_next_invocation_works(
    functions: LambdaFunctions, function: str, action: str, reason: str
):
    _, before, _, _ = functions.invoke(function, {})
    response, error, logs, elapsed = functions.invoke(function, {"action": action})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError", error
    assert error["errorMessage"].endswith(f"Error: Runtime exited with error: {reason}"), error
    assert elapsed < TIMEOUT_SECONDS + 2, "a crash is reported at once, not at the timeout"
    # (What the handler printed in the instant before it died may be missing: the process
    # itself reads its output pipe.)
    assert f"Error: Runtime exited with error: {reason}\nRuntime.ExitError\nEND RequestId: " in logs, logs

    response, after, _, _ = functions.invoke(function, {})
    assert "FunctionError" not in response, after
    assert after["pid"] != before["pid"]


def test_an_import_error_is_reported_as_the_runtime_does(functions: LambdaFunctions):
    name, configuration = functions.create(handler="missing_module.handler")
    assert configuration["State"] == "Active"
    for _ in range(2):  # and again: nothing is left half-started
        response, error, _, _ = functions.invoke(name, {})
        assert response["FunctionError"] == "Unhandled"
        assert error["errorType"] == "Runtime.ImportModuleError", error
        assert "Unable to import module 'missing_module'" in error["errorMessage"], error
    functions.delete(name)


def test_a_runtime_that_is_not_python_is_refused(functions: LambdaFunctions):
    name, configuration = functions.create(handler="index.handler", runtime="nodejs20.x", **{"index.js": "//"})
    assert configuration["State"] == "Failed", configuration
    assert "runs Python functions only" in configuration["StateReason"], configuration
    functions.delete(name)


def test_deleting_a_function_ends_its_idle_processes(functions: LambdaFunctions):
    name, _ = functions.create()
    _, result, _, _ = functions.invoke(name, {})
    assert alive(result["pid"])
    functions.delete(name)
    deadline = time.monotonic() + 15
    while alive(result["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(result["pid"]), "the idle handler process outlived its function"
