"""A LocalStack runtime executor that runs Python Lambda handlers as host processes.

No container and no isolation: the handler runs as a child process of LocalStack, on the
interpreter named by ``LAMBDA_HOST_PYTHON`` (the project's virtualenv), with the function's
Lambda environment and ``LAMBDA_TASK_ROOT`` set to its unpacked code. For local development
and CI only.

Processes and environments
    LocalStack creates one execution environment (one ``HostRuntimeExecutor``) per
    concurrent invocation. Here the environments of one function version share a pool of at
    most ``LAMBDA_HOST_MAX_PROCESSES`` warm processes (default 4): 200 simultaneous requests
    queue for a process instead of starting 200 interpreters on a small machine. Each
    process handles one invocation at a time, like a Lambda sandbox. ``start()`` makes sure
    the pool has a process (a cold start waits for its import); ``invoke()`` takes an idle
    process, or starts another while under the cap, or waits for one; ``stop()`` detaches the
    environment and terminates the idle processes no remaining environment needs (all of
    them with the last environment).

Failures
    * handler exception: the error document the process reports (``errorType``,
      ``errorMessage``, ``stackTrace``); the process stays warm;
    * timeout (``Timeout`` of the function): the process group is killed, the answer is
      ``Sandbox.Timedout``; the next invocation gets a fresh process;
    * crash (the process exits during an invocation): ``Runtime.ExitError``; same;
    * import error at start-up: ``Runtime.ImportModuleError`` and friends, for that
      invocation; the next invocation tries a fresh process again;
    * a function whose runtime is not Python is refused when it is created (its state
      becomes ``Failed`` with the reason).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from localstack import config
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import (
    NAMESPACE,
    Endpoint,
    StatusErrorException,
    executor_router,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from werkzeug import Request

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
DEFAULT_MAX_PROCESSES = 4
# Environment of the host that a handler process keeps (everything else comes from Lambda).
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR")
# Go's names of signals, as the Lambda init reports "Runtime exited with error: signal: killed".
SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
}


# ------------------------------------------------------------------------ settings


def _project_python_candidates() -> list[Path]:
    candidates: list[Path] = []
    project = os.environ.get("LAMBDA_HOST_PROJECT_DIR")
    if project:
        candidates.append(Path(project) / ".venv" / "bin" / "python")
    # LocalStack installed in <project>/.local/localstack-venv (infra/localstack/stack.py).
    prefix = Path(sys.prefix).resolve()
    if prefix.parent.name == ".local":
        candidates.append(prefix.parent.parent / ".venv" / "bin" / "python")
    return candidates


def handler_python() -> str:
    """The interpreter that runs handlers: the project's virtualenv, not LocalStack's."""
    explicit = os.environ.get("LAMBDA_HOST_PYTHON")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise LambdaRuntimeException(f"LAMBDA_HOST_PYTHON={explicit} is not an executable interpreter")
        return explicit
    for candidate in _project_python_candidates():
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise LambdaRuntimeException(
        "no interpreter for Lambda handlers: set LAMBDA_HOST_PYTHON to the project's virtualenv python "
        "(or LAMBDA_HOST_PROJECT_DIR to the project)"
    )


def max_processes() -> int:
    try:
        return max(1, int(os.environ.get("LAMBDA_HOST_MAX_PROCESSES") or DEFAULT_MAX_PROCESSES))
    except ValueError:
        return DEFAULT_MAX_PROCESSES


def log_dir() -> Path:
    import tempfile

    path = Path(os.environ.get("LAMBDA_HOST_LOG_DIR") or Path(tempfile.gettempdir()) / "lambda-host-runtime")
    path.mkdir(parents=True, exist_ok=True)
    return path


def gateway_host() -> str:
    host = config.GATEWAY_LISTEN[0].host
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - a listen address, mapped to loopback


def gateway_port() -> int:
    return config.GATEWAY_LISTEN[0].port


def check_supported(function_version: FunctionVersion) -> None:
    cfg = function_version.config
    name = function_version.id.function_name
    if cfg.image is not None or str(cfg.package_type) != "Zip":
        raise LambdaRuntimeException(
            f"function {name}: the host runtime executor runs zip packages only, not container images"
        )
    runtime = str(cfg.runtime or "")
    if not runtime.startswith("python3"):
        raise LambdaRuntimeException(
            f"function {name} has runtime {runtime or 'none'}: the host runtime executor (LAMBDA_RUNTIME_EXECUTOR="
            "host) runs Python functions only; use LocalStack's docker executor for other runtimes"
        )
    if cfg.layers:
        raise LambdaRuntimeException(f"function {name}: the host runtime executor does not support layers")


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        signum = -returncode
        try:
            name = SIGNAL_NAMES.get(signal.Signals(signum)) or signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        return f"signal: {name}"
    return f"exit status {returncode}"


def _error_result(request_id: str, error_type: str, message: str, logs: str) -> InvocationResult:
    payload = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return InvocationResult(request_id=request_id, payload=payload, is_error=True, logs=logs)


# ------------------------------------------------------------------------ one handler process


class ProcessExited(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"handler process exited ({_exit_reason(returncode)})")
        self.returncode = returncode


class HandlerProcess(Endpoint):
    """One host process running ``bootstrap.py``, and the endpoint its callbacks reach
    (``/_localstack_lambda/<process id>/...``)."""

    def __init__(self, pool: ProcessPool, env_vars: dict[str, str]) -> None:
        self.pool = pool
        self.id = f"host{uuid.uuid4().hex[:20]}"
        self.ready: Future[bool] = Future()
        self.lock = threading.Lock()
        self.request_id: str | None = None
        self.result: Future[InvocationResult] | None = None
        self.logs: str | None = None
        self.returncode: int | None = None
        self.log_path = log_dir() / f"{pool.function_name}-{self.id}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.killed = False
        self.port = 0
        self.started_at = time.monotonic()
        self._spawn(env_vars)

    # ---- life cycle

    def _spawn(self, env_vars: dict[str, str]) -> None:
        code_dir = str(self.pool.function_version.config.code.get_unzipped_code_location())
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        # The handler's stdout/stderr pipe: the process reads it itself, and this end survives a
        # crash, so that the output the process had no time to read still reaches the logs.
        output_read, output_write = os.pipe()
        host_env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        # Like /var/lang/bin in Lambda: `python` in a handler's subprocess is the handler's.
        host_env["PATH"] = os.pathsep.join([str(Path(self.pool.python).parent), host_env.get("PATH", os.defpath)])
        env = {
            **host_env,
            **{key: str(value) for key, value in env_vars.items()},
            "LAMBDA_TASK_ROOT": code_dir,
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "LOCALSTACK_RUNTIME_ID": self.id,
            "LOCALSTACK_RUNTIME_ENDPOINT": f"http://{gateway_host()}:{gateway_port()}{NAMESPACE}/{self.id}",
            "LAMBDA_HOST_LISTEN_FD": str(listener.fileno()),
            "LAMBDA_HOST_PARENT_PID": str(os.getpid()),
            "LAMBDA_HOST_OUTPUT_FDS": f"{output_read},{output_write}",
        }
        executor_router().register_endpoint(self.id, self)
        with open(self.log_path, "ab") as log_file:
            self.popen = subprocess.Popen(
                [self.pool.python, str(BOOTSTRAP)],
                env=env,
                cwd=code_dir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                pass_fds=(listener.fileno(), output_read, output_write),
                start_new_session=True,
                close_fds=True,
            )
        listener.close()
        os.close(output_write)
        self.output_fd = output_read
        LOG.debug("started handler process %s (pid %s) for %s", self.id, self.popen.pid, self.pool.function_name)
        threading.Thread(target=self._watch, name=f"host-lambda-{self.popen.pid}", daemon=True).start()

    def _watch(self) -> None:
        assert self.popen is not None
        returncode = self.popen.wait()
        self._drain_output()
        with self.lock:
            self.returncode = returncode
            result = self.result
        if not self.ready.done():
            with contextlib.suppress(Exception):
                self.ready.set_exception(ProcessExited(returncode))
        if result is not None and not result.done():
            with contextlib.suppress(Exception):
                result.set_exception(ProcessExited(returncode))
        self.pool.forget(self)
        with contextlib.suppress(KeyError):
            executor_router().unregister_endpoint(self.id)

    def _drain_output(self) -> None:
        """After the process died: what it wrote but never read goes to its log file."""
        chunks = []
        try:
            # Only now: the flag belongs to the pipe, which the living process reads blocking.
            os.set_blocking(self.output_fd, False)
            while True:
                chunk = os.read(self.output_fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except BlockingIOError:
            pass  # a grandchild still holds the pipe: take what is there
        except OSError as exc:
            LOG.debug("reading the output of %s: %s", self.id, exc)
        finally:
            os.close(self.output_fd)
        if chunks:
            with open(self.log_path, "ab") as log_file:
                log_file.write(b"".join(chunks))

    @property
    def alive(self) -> bool:
        return not self.killed and self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Block until the handler imported (``status/ready``); raise StatusErrorException
        with the runtime's error document if it reported an init error or died."""
        try:
            self.ready.result(timeout=timeout)
        except StatusErrorException:
            self.kill()
            raise
        except ProcessExited as exc:
            raise StatusErrorException(
                f"handler process exited during start-up ({_exit_reason(exc.returncode)})",
                payload=json.dumps(
                    {
                        "errorType": "Runtime.ExitError",
                        "errorMessage": f"RequestId: Error: Runtime exited with error: {_exit_reason(exc.returncode)}",
                    }
                ).encode(),
            ) from exc
        except FutureTimeout as exc:
            self.kill()
            raise StatusErrorException(
                f"handler process did not become ready in {timeout:.0f}s",
                payload=json.dumps(
                    {"errorType": "Runtime.InitTimeout", "errorMessage": f"Init did not finish in {timeout:.0f}s"}
                ).encode(),
            ) from exc

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.killed = True
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def terminate(self, grace: float = 2.0) -> None:
        self.kill(signal.SIGTERM)
        if self.popen is not None:
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def log_tail(self, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(since)
                data = handle.read()
        except OSError:
            return ""
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        return "".join(line for line in lines if not line.startswith("[host-runtime]")).replace("\x00", "")

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    # ---- one invocation

    def invoke(self, payload: dict[str, str], timeout: float) -> InvocationResult:
        request_id = payload["invoke-id"]
        result: Future[InvocationResult] = Future()
        with self.lock:
            self.request_id, self.result, self.logs = request_id, result, None
            if self.returncode is not None:
                result.set_exception(ProcessExited(self.returncode))
        log_offset = self.log_size()
        started = time.monotonic()
        if not result.done():
            try:
                self._post_invoke(payload)
            except OSError as exc:
                if self.alive:
                    self.kill()
                LOG.warning("could not hand invocation %s to process %s: %s", request_id, self.id, exc)
        try:
            return result.result(timeout=timeout)
        except FutureTimeout:
            self.kill()
            LOG.info("invocation %s of %s timed out after %ss", request_id, self.pool.function_name, timeout)
            return self._failure(
                request_id,
                "Sandbox.Timedout",
                f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                log_offset,
                started,
                status="timeout",
                note=f"{datetime.now(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')} {request_id} "
                f"Task timed out after {timeout:.2f} seconds",
            )
        except ProcessExited as exc:
            reason = _exit_reason(exc.returncode)
            return self._failure(
                request_id,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
                log_offset,
                started,
                status="error",
                note=f"RequestId: {request_id} Error: Runtime exited with error: {reason}\nRuntime.ExitError",
            )
        finally:
            with self.lock:
                self.request_id = self.result = None

    def _post_invoke(self, payload: dict[str, str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"}
            connection.request("POST", "/invoke", body=json.dumps(payload), headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 300:
                raise OSError(f"/invoke answered {response.status}")
        finally:
            connection.close()

    def _failure(
        self, request_id: str, error_type: str, message: str, log_offset: int, started: float, status: str, note: str
    ) -> InvocationResult:
        duration = (time.monotonic() - started) * 1000
        memory = self.pool.function_version.config.memory_size
        output = self.log_tail(log_offset)
        if output and not output.endswith("\n"):
            output += "\n"
        version = self.pool.function_version.id.qualifier
        logs = (
            f"START RequestId: {request_id} Version: {version}\n{output}{note}\nEND RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
            f"Memory Size: {memory} MB\tMax Memory Used: 0 MB\tStatus: {status}\t\n"
        )
        return _error_result(request_id, error_type, message, logs)

    # ---- Endpoint: the callbacks of bootstrap.py, routed here by LocalStack's ExecutorRouter

    def _current(self, req_id: str) -> Future[InvocationResult] | None:
        with self.lock:
            if self.request_id == req_id and self.result is not None and not self.result.done():
                return self.result
        LOG.debug("ignoring a late callback for %s from process %s", req_id, self.id)
        return None

    def invocation_response(self, request: Request, req_id: str) -> Response:
        future = self._current(req_id)
        if future is not None:
            with contextlib.suppress(Exception):
                future.set_result(InvocationResult(req_id, request.data, is_error=False, logs=self.logs))
        return Response(status=HTTPStatus.ACCEPTED)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        future = self._current(req_id)
        if future is not None:
            with contextlib.suppress(Exception):
                future.set_result(InvocationResult(req_id, request.data, is_error=True, logs=self.logs))
        return Response(status=HTTPStatus.ACCEPTED)

    def invocation_logs(self, request: Request, invoke_id: str) -> Response:
        document = request.get_json(force=True, silent=True)
        if isinstance(document, dict) and self._current(invoke_id) is not None:
            self.logs = document.get("logs")
        return Response(status=HTTPStatus.ACCEPTED)

    def status_ready(self, request: Request, executor_id: str) -> Response:
        with contextlib.suppress(Exception):
            self.ready.set_result(True)
        return Response(status=HTTPStatus.ACCEPTED)

    def status_error(self, request: Request, executor_id: str) -> Response:
        LOG.warning("handler process of %s failed to start: %s", self.pool.function_name, request.data[:2000])
        if self.ready.done():
            return Response(status=HTTPStatus.BAD_REQUEST)
        with contextlib.suppress(Exception):
            self.ready.set_exception(StatusErrorException("Environment startup failed", payload=request.data))
        return Response(status=HTTPStatus.ACCEPTED)


# ------------------------------------------------------------------------ the pool of a function version


class ProcessPool:
    """The warm processes of one function version, shared by its execution environments."""

    _pools: dict[str, ProcessPool] = {}
    _registry_lock = threading.Lock()

    def __init__(self, key: str, function_version: FunctionVersion) -> None:
        self.key = key
        self.function_version = function_version
        self.function_name = function_version.id.function_name
        self.python = handler_python()
        self.cap = max_processes()
        self.condition = threading.Condition()
        self.idle: list[HandlerProcess] = []
        self.busy: set[HandlerProcess] = set()
        self.starting = 0
        self.environments: set[str] = set()
        self.env_vars: dict[str, str] = {}
        self.closed = False

    @classmethod
    def key_of(cls, function_version: FunctionVersion) -> str:
        return f"{function_version.qualified_arn}#{function_version.config.revision_id}"

    @classmethod
    def for_version(cls, function_version: FunctionVersion) -> ProcessPool:
        key = cls.key_of(function_version)
        with cls._registry_lock:
            pool = cls._pools.get(key)
            if pool is None or pool.closed:
                pool = cls._pools[key] = ProcessPool(key, function_version)
            return pool

    @classmethod
    def close_version(cls, function_version: FunctionVersion) -> None:
        with cls._registry_lock:
            pool = cls._pools.pop(cls.key_of(function_version), None)
        if pool is not None:
            pool.close()

    @property
    def size(self) -> int:
        return len(self.idle) + len(self.busy) + self.starting

    def startup_timeout(self) -> float:
        return float(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)

    # ---- environments

    def attach(self, environment_id: str, env_vars: dict[str, str]) -> None:
        with self.condition:
            if self.closed:
                raise LambdaRuntimeException(f"function version {self.key} is shutting down")
            self.environments.add(environment_id)
            self.env_vars = env_vars
            need_first = self.size == 0
            if need_first:
                self.starting += 1
        if need_first:
            # A cold start: the first environment waits for the handler's import.
            self._start_process(raise_errors=True)

    def detach(self, environment_id: str) -> None:
        to_stop: list[HandlerProcess] = []
        with self.condition:
            self.environments.discard(environment_id)
            if not self.environments:
                to_stop = [*self.idle, *self.busy]
                self.idle.clear()
                self.busy.clear()
            else:
                while self.idle and len(self.idle) + len(self.busy) > len(self.environments):
                    to_stop.append(self.idle.pop(0))
            self.condition.notify_all()
        for process in to_stop:
            process.terminate()
        if not self.environments:
            with self._registry_lock:
                if self._pools.get(self.key) is self:
                    del self._pools[self.key]

    def close(self) -> None:
        with self.condition:
            self.closed = True
            processes = [*self.idle, *self.busy]
            self.idle.clear()
            self.busy.clear()
            self.condition.notify_all()
        for process in processes:
            process.terminate()

    # ---- processes

    def _start_process(self, raise_errors: bool) -> HandlerProcess | StatusErrorException:
        """Start a process (its ``starting`` slot already counted) and wait until it is ready.
        A ready process joins the idle list; a failed one is reported."""
        process: HandlerProcess | None = None
        try:
            process = HandlerProcess(self, dict(self.env_vars))
            process.wait_ready(self.startup_timeout())
        except StatusErrorException as exc:
            with self.condition:
                self.starting -= 1
                self.condition.notify_all()
            if process is not None:
                LOG.warning("handler process of %s failed to start:\n%s", self.function_name, process.log_tail())
            if raise_errors:
                raise
            return exc
        except Exception:
            with self.condition:
                self.starting -= 1
                self.condition.notify_all()
            raise
        with self.condition:
            self.starting -= 1
            if self.closed:
                process.terminate()
                raise LambdaRuntimeException(f"function version {self.key} is shutting down")
            self.idle.append(process)
            self.condition.notify_all()
        return process

    def acquire(self) -> HandlerProcess | StatusErrorException:
        """An idle process, or a new one while under the cap, or wait for one. A start-up
        failure of the process this caller started is returned, to become its answer."""
        started: threading.Thread | None = None
        failure: list[StatusErrorException] = []
        with self.condition:
            while True:
                if self.closed:
                    raise LambdaRuntimeException(f"function version {self.key} is shutting down")
                alive = [p for p in self.idle if p.alive]
                self.idle = alive
                if self.idle:
                    process = self.idle.pop()
                    self.busy.add(process)
                    return process
                if failure:
                    return failure[0]
                if started is None and self.size < self.cap:
                    self.starting += 1

                    def start() -> None:
                        try:
                            outcome = self._start_process(raise_errors=False)
                        except Exception as exc:  # reported to the caller waiting for it
                            LOG.warning("could not start a handler process for %s: %s", self.function_name, exc)
                            outcome = StatusErrorException(
                                f"could not start a handler process: {exc}",
                                payload=json.dumps({"errorType": "Runtime.Unknown", "errorMessage": str(exc)}).encode(),
                            )
                        if isinstance(outcome, StatusErrorException):
                            with self.condition:
                                failure.append(outcome)
                                self.condition.notify_all()

                    started = threading.Thread(target=start, name=f"host-lambda-start-{self.function_name}")
                    started.start()
                self.condition.wait(1.0)

    def release(self, process: HandlerProcess) -> None:
        with self.condition:
            self.busy.discard(process)
            # Keep it warm, unless environments went away meanwhile and it is one too many.
            keep = process.alive and not self.closed and len(self.idle) + len(self.busy) < len(self.environments)
            if keep:
                self.idle.append(process)
            self.condition.notify_all()
        if not keep:
            process.terminate()

    def forget(self, process: HandlerProcess) -> None:
        """A process exited (crash, timeout kill, stop): it leaves the pool."""
        with self.condition:
            if process in self.idle:
                self.idle.remove(process)
            self.busy.discard(process)
            self.condition.notify_all()

    def logs(self) -> str:
        with self.condition:
            processes = [*self.idle, *self.busy]
        return "\n".join(process.log_tail() for process in processes)


# ------------------------------------------------------------------------ the executor


class HostRuntimeExecutor(RuntimeExecutor):
    """One LocalStack execution environment, served by the version's process pool."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.pool: ProcessPool | None = None
        self.last_logs = ""

    def start(self, env_vars: dict[str, str]) -> None:
        check_supported(self.function_version)
        self.pool = ProcessPool.for_version(self.function_version)
        self.pool.attach(self.id, env_vars)

    def stop(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.detach(self.id)

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return gateway_host()

    def get_runtime_endpoint(self) -> str:
        return f"http://{gateway_host()}:{gateway_port()}{NAMESPACE}/{self.id}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        if self.pool is None:
            raise LambdaRuntimeException(f"execution environment {self.id} is not started")
        acquired = self.pool.acquire()
        request_id = payload["invoke-id"]
        if isinstance(acquired, StatusErrorException):
            return InvocationResult(request_id, acquired.payload, is_error=True, logs=str(acquired))
        try:
            result = acquired.invoke(payload, float(self.function_version.config.timeout))
            self.last_logs = result.logs or ""
            return result
        finally:
            self.pool.release(acquired)

    def get_logs(self) -> str:
        return self.pool.logs() if self.pool is not None else self.last_logs

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        check_supported(function_version)
        handler_python()  # fail early and clearly when there is no interpreter
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        ProcessPool.close_version(function_version)

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            python = handler_python()
        except LambdaRuntimeException as exc:
            LOG.warning("host runtime executor: %s", exc)
            return False
        LOG.info(
            "Lambda functions run as host processes on %s (LAMBDA_RUNTIME_EXECUTOR=host): no isolation, "
            "for local development and CI only",
            python,
        )
        return True
