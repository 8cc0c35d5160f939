"""The Lambda runtime of one host process: imports the handler, serves ``/invoke`` and
reports to LocalStack the way LocalStack's Go init does inside a Lambda container.

Started by ``HostRuntimeExecutor`` with the project's own interpreter (standard library
only, so it runs on any Python 3.9+), the function's Lambda environment, ``LAMBDA_TASK_ROOT``
pointing at the unpacked code, and an already listening socket (``LAMBDA_HOST_LISTEN_FD``).

Protocol (LocalStack's ``executor_endpoint.py``), ``E`` = ``LOCALSTACK_RUNTIME_ENDPOINT``:

* start-up: import the handler, then POST ``E/status/<LOCALSTACK_RUNTIME_ID>/ready``, or
  ``E/status/<id>/error`` with the Lambda error document if the import failed;
* ``POST /invoke`` ``{"invoke-id", "invoked-function-arn", "payload", "trace-id"}``: answered
  202 at once; the handler runs on the main thread with a Lambda context, then
  ``E/invocations/<id>/logs`` ``{"logs": "START ... END ... REPORT ..."}`` and
  ``E/invocations/<id>/response`` (the JSON result) or ``.../error`` (the error document).

The function timeout is enforced by the executor, which kills this process (and its
process group) when the time is up; it also kills it when LocalStack stops the environment.
If LocalStack itself disappears, a watchdog ends this process.
"""

from __future__ import annotations

import contextlib
import decimal
import http.client
import http.server
import importlib
import json
import os
import queue
import resource
import socket
import sys
import threading
import time
import traceback
from typing import Any
from urllib.parse import urlsplit

LOG_PREFIX = "[host-runtime]"
# The log file the executor gave as stdout/stderr, kept (by main) before fds 1 and 2 become the pipe.
_LOG_FD = 2


def _diag(message: str) -> None:
    # Runtime diagnostics go to the process log file only, never into an invocation's logs.
    os.write(_LOG_FD, f"{LOG_PREFIX} {message}\n".encode())


# ------------------------------------------------------------------------ output capture


class OutputCapture:
    """Everything written to file descriptors 1 and 2 (Python, C extensions, subprocesses)
    goes through a pipe; a reader thread copies it to the process log file and keeps what
    was written during the current invocation. The executor made the pipe and keeps its read
    end too (``LAMBDA_HOST_OUTPUT_FDS``), so what a crash leaves unread is not lost."""

    def __init__(self, log_fd: int) -> None:
        self.log_fd = log_fd
        given = os.environ.pop("LAMBDA_HOST_OUTPUT_FDS", "")
        if given:
            read_end, write_end = (int(fd) for fd in given.split(","))
            os.set_blocking(read_end, True)
            os.set_inheritable(read_end, False)
        else:
            read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        self._read_end = read_end
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._collected = bytearray()
        self._marker: bytes | None = None
        self._marker_seen = threading.Event()
        threading.Thread(target=self._pump, name="output-capture", daemon=True).start()

    def _pump(self) -> None:
        while True:
            chunk = os.read(self._read_end, 65536)
            if not chunk:
                return
            with self._lock:
                self._pending += chunk
                marker = self._marker
                if marker is not None and marker in self._pending:
                    before, _, after = bytes(self._pending).partition(marker)
                    self._emit(before)
                    self._pending = bytearray(after)
                    self._marker = None
                    self._marker_seen.set()
                else:
                    # Keep a possible partial marker at the end for the next read.
                    keep = len(marker) - 1 if marker else 0
                    cut = max(0, len(self._pending) - keep)
                    self._emit(bytes(self._pending[:cut]))
                    del self._pending[:cut]

    def _emit(self, data: bytes) -> None:
        if data:
            os.write(self.log_fd, data)
            self._collected += data

    def begin(self) -> None:
        with self._lock:
            self._collected = bytearray()

    def end(self, token: str) -> str:
        """Wait until everything written so far has been read, return it."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        marker = f"\x00{token}\x00".encode()
        with self._lock:
            self._marker_seen.clear()
            self._marker = marker
        os.write(1, marker)
        self._marker_seen.wait(5)
        with self._lock:
            if self._marker is not None:  # not seen in time: take what there is
                self._emit(bytes(self._pending))
                self._pending = bytearray()
                self._marker = None
            collected, self._collected = bytes(self._collected), bytearray()
        return collected.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------ LocalStack callbacks


class Gateway:
    """POSTs to LocalStack's ``/_localstack_lambda/<id>/...`` endpoints."""

    def __init__(self, endpoint: str, runtime_id: str) -> None:
        parts = urlsplit(endpoint)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.runtime_id = runtime_id

    def post(self, path: str, body: bytes) -> None:
        for attempt in range(5):
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                connection.request(
                    "POST", f"{self.prefix}/{path}", body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    _diag(f"POST {path} answered {response.status}")
                return
            except OSError as exc:
                _diag(f"POST {path} failed ({exc}); attempt {attempt + 1}")
                time.sleep(0.1 * (attempt + 1))
            finally:
                connection.close()

    def ready(self) -> None:
        self.post(f"status/{self.runtime_id}/ready", b"{}")

    def init_error(self, document: dict[str, Any]) -> None:
        self.post(f"status/{self.runtime_id}/error", json.dumps(document).encode())

    def logs(self, request_id: str, logs: str) -> None:
        self.post(f"invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())

    def response(self, request_id: str, body: bytes) -> None:
        self.post(f"invocations/{request_id}/response", body)

    def error(self, request_id: str, document: dict[str, Any]) -> None:
        self.post(f"invocations/{request_id}/error", json.dumps(document).encode())


# ------------------------------------------------------------------------ the Lambda context


class CognitoIdentity:
    cognito_identity_id = None
    cognito_identity_pool_id = None


class LambdaContext:
    """What the Python Lambda runtime passes as ``context``."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = CognitoIdentity()
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


# ------------------------------------------------------------------------ errors


def error_document(exc: BaseException, request_id: str, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    # Leave out this runtime's own frames, as the Lambda runtime does.
    frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def print_error(document: dict[str, Any]) -> None:
    stack = "".join(document.get("stackTrace") or [])
    print(
        f"[ERROR] {document['errorType']}: {document['errorMessage']}\nTraceback (most recent call last):\n{stack}",
        file=sys.stderr,
        flush=True,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value) if value % 1 else int(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load_handler(spec: str) -> Any:
    """``module.path.function`` -> the function, raising errors shaped like the runtime's."""
    module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise RuntimeInitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise RuntimeInitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise RuntimeInitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
    handler = getattr(module, attribute, None)
    if handler is None:
        raise RuntimeInitError("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'")
    return handler


class RuntimeInitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


# ------------------------------------------------------------------------ the runtime


class InvokeServer(http.server.BaseHTTPRequestHandler):
    jobs: queue.Queue[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.rstrip("/") != "/invoke":
            self.send_response(404)
            self.end_headers()
            return
        try:
            job = json.loads(body)
        except json.JSONDecodeError:
            self.send_response(400)
            self.end_headers()
            return
        self.jobs.put(job)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(listen_fd: int, jobs: queue.Queue[dict[str, Any]]) -> None:
    sock = socket.socket(fileno=listen_fd)
    handler = type("Handler", (InvokeServer,), {"jobs": jobs})
    server = http.server.HTTPServer(sock.getsockname()[:2], handler, bind_and_activate=False)
    server.socket = sock
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()


def watch_parent(parent_pid: int) -> None:
    def check() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent_pid:
                _diag("LocalStack is gone; exiting")
                os._exit(0)

    threading.Thread(target=check, name="parent-watchdog", daemon=True).start()


def max_memory_used_mb() -> int:
    """Peak resident memory of this process since its exec (VmHWM; ru_maxrss would include
    the LocalStack process it was forked from)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def report_line(request_id: str, started: float, init_ms: float | None, status: str | None = None) -> str:
    duration = (time.monotonic() - started) * 1000
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    used = max_memory_used_mb()
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    if status:
        line += f"Status: {status}\t"
    return line


def run_invocation(
    job: dict[str, Any],
    handler: Any,
    capture: OutputCapture,
    gateway: Gateway,
    init_ms: float | None,
    preamble: str = "",
) -> None:
    request_id = str(job.get("invoke-id", ""))
    started = time.monotonic()
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
    deadline_ms = int(time.time() * 1000 + timeout * 1000)
    trace_id = job.get("trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = str(trace_id)
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    context = LambdaContext(request_id, str(job.get("invoked-function-arn", "")), deadline_ms)
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    capture.begin()
    error: dict[str, Any] | None = None
    body = b""
    try:
        raw = job.get("payload")
        try:
            event = json.loads(raw) if raw else {}
        except json.JSONDecodeError as exc:
            raise RuntimeInitError("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from exc
        result = handler(event, context)
        try:
            body = json.dumps(result, default=_json_default).encode()
        except (TypeError, ValueError) as exc:
            raise RuntimeInitError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc
    except RuntimeInitError as exc:
        error = error_document(exc, request_id, exc.error_type)
        error["stackTrace"] = []
        print_error(error)
    except Exception as exc:
        error = error_document(exc, request_id)
        print_error(error)
    output = capture.end(request_id)
    # What the module printed while it was imported comes first, as in the function's log stream.
    logs = f"{preamble}START RequestId: {request_id} Version: {version}\n{output}"
    if logs and not logs.endswith("\n"):
        logs += "\n"
    logs += f"END RequestId: {request_id}\n{report_line(request_id, started, init_ms, 'error' if error else None)}\n"
    gateway.logs(request_id, logs)
    if error is not None:
        gateway.error(request_id, error)
    else:
        gateway.response(request_id, body)


def main() -> None:
    global _LOG_FD
    _LOG_FD = os.dup(2)
    env = os.environ
    task_root = env["LAMBDA_TASK_ROOT"]
    # This file's folder (LocalStack's virtualenv) must not shadow the function's modules.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    gateway = Gateway(env["LOCALSTACK_RUNTIME_ENDPOINT"], env["LOCALSTACK_RUNTIME_ID"])
    listen_fd = int(env.pop("LAMBDA_HOST_LISTEN_FD"))
    os.set_inheritable(listen_fd, False)  # not into the handler's own subprocesses
    parent = env.pop("LAMBDA_HOST_PARENT_PID", None)
    if parent:
        watch_parent(int(parent))
    capture = OutputCapture(_LOG_FD)
    jobs: queue.Queue[dict[str, Any]] = queue.Queue()

    started = time.monotonic()
    try:
        handler = load_handler(env["_HANDLER"])
    except RuntimeInitError as exc:
        document = {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": "", "stackTrace": []}
        print_error(document)
        capture.end("init")
        gateway.init_error(document)
        sys.exit(1)
    except Exception as exc:
        document = error_document(exc, "")
        print_error(document)
        capture.end("init")
        gateway.init_error(document)
        sys.exit(1)
    init_ms: float | None = (time.monotonic() - started) * 1000
    preamble = capture.end("init")

    serve(listen_fd, jobs)
    gateway.ready()
    _diag(f"ready: {env['_HANDLER']} in {init_ms:.0f} ms (python {sys.version.split()[0]}, {sys.executable})")
    while True:
        job = jobs.get()
        run_invocation(job, handler, capture, gateway, init_ms, preamble)
        init_ms, preamble = None, ""


if __name__ == "__main__":
    main()
