"""The whole stack on LocalStack without Docker: Lambda handlers run as host processes.

    python -m infra.localstack.stack up       # install, start, deploy; prints the API base URL
    python -m infra.localstack.stack url      # the API base URL again
    python -m infra.localstack.stack status   # what is running
    python -m infra.localstack.stack down     # stop LocalStack (PostgreSQL, Redis, Kafka stay up)

``up`` does, skipping what is already done:

1. creates LocalStack's own virtualenv (``.local/localstack-venv``) with ``localstack-core``
   pinned by ``infra/localstack/constraints-4.9.2.txt``, and installs the host runtime
   executor (``infra/localstack``, entry point ``host``) into it;
2. brings up the native PostgreSQL, Redis and Kafka (``python -m infra.services up``) and
   runs the migrations (``python -m chalicelib.jobs.migrate``), with the project's virtualenv;
3. starts LocalStack in host mode as a daemon (``LAMBDA_RUNTIME_EXECUTOR=host``; pid file,
   log and state under ``.local/localstack``) and waits for ``/_localstack/health``;
4. deploys the ``local`` stage's app stack through CloudFormation with ``python -m
   infra.stacks deploy --stage local --endpoint-url http://127.0.0.1:4566`` and the
   services' addresses (no data stack: LocalStack has no RDS Proxy, ElastiCache or MSK),
   and prints the API URL.

It runs with the project's virtualenv (the Makefile's targets and the LocalStack suite call it
so), and LocalStack itself with LocalStack's own.

Settings (environment): the local services' ports of ``./.env`` (chalicelib/config.py's
``local_services``; ``CINEMA_LOCALSTACK_PORT`` among them); ``LOCALSTACK_DATABASE_URL``,
``LOCALSTACK_REDIS_URL``, ``LOCALSTACK_KAFKA_BOOTSTRAP_SERVERS`` (what the functions connect
to; default the native PostgreSQL's ``cinema_localstack`` database, created and migrated
here, Redis database 1 and the broker: apart from ``make run``'s ``cinema`` and database 0);
``LAMBDA_HOST_MAX_PROCESSES`` (warm handler processes per function, 4);
``LAMBDA_KEEPALIVE_MS`` (idle environments are stopped after it, 600000).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chalicelib.config import local_services
from infra.services import wait_for_exit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCALSTACK_VERSION = "4.9.2"
CONSTRAINTS = HERE / f"constraints-{LOCALSTACK_VERSION}.txt"
EXECUTOR_NAME = "host"
STAGE = "local"
LOCALSTACK_REDIS_DB = 1
# A database of its own: `make run` (and its 5-second sweeper) works on `cinema`.
LOCALSTACK_DATABASE = "cinema_localstack"
# Connection settings of the shell (the test suite's, for instance) never leak into the stack.
CONNECTION_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")


def log(message: str) -> None:
    print(f"[localstack] {message}", file=sys.stderr, flush=True)


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Paths:
    local: Path
    port: int

    @classmethod
    def from_env(cls) -> Paths:
        local = Path(os.environ.get("CINEMA_LOCAL_DIR") or PROJECT_ROOT / ".local")
        return cls(local=local, port=local_services().localstack_port)

    @property
    def venv(self) -> Path:
        return self.local / "localstack-venv"

    @property
    def venv_python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def home(self) -> Path:
        return self.local / "localstack"

    @property
    def pidfile(self) -> Path:
        return self.home / "localstack.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "localstack.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def project_python(self) -> Path:
        return PROJECT_ROOT / ".venv" / "bin" / "python"


# --------------------------------------------------------------------------- installing


def executor_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([HERE / "pyproject.toml", CONSTRAINTS, *(HERE / "localstack_host_runtime").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_project_venv(paths: Paths) -> None:
    if paths.project_python.exists() and (paths.project_python.parent / ".installed").exists():
        return
    log("creating the project's virtualenv (make .venv/bin/.installed)")
    subprocess.run(["make", "-s", ".venv/bin/.installed"], cwd=PROJECT_ROOT, stdout=sys.stderr, check=True)


def ensure_localstack(paths: Paths) -> bool:
    """LocalStack in its own virtualenv (its boto3 pins differ from the project's), and the
    host runtime executor in it; reinstalled only when the constraints or the executor change.
    True when something was installed."""
    stamp = paths.venv / ".cinema-host-runtime"
    wanted = executor_digest()
    if paths.venv_python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return False
    pip = [str(paths.venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not paths.venv_python.exists():
        log(f"creating {paths.venv}")
        subprocess.run([str(paths.project_python), "-m", "venv", str(paths.venv)], stdout=sys.stderr, check=True)
    installed = subprocess.run(
        [str(paths.venv_python), "-c", "import importlib.metadata as m; print(m.version('localstack-core'))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if installed != LOCALSTACK_VERSION:
        log(f"installing localstack-core[runtime]=={LOCALSTACK_VERSION} (a few minutes the first time)")
        subprocess.run(
            [*pip, f"localstack-core[runtime]=={LOCALSTACK_VERSION}", "-c", str(CONSTRAINTS)],
            stdout=sys.stderr,
            check=True,
        )
    log("installing the host runtime executor (infra/localstack)")
    # Built from a copy, so that pip leaves no build/ or .egg-info in the checkout.
    with tempfile.TemporaryDirectory(prefix="host-runtime-") as workdir:
        source = Path(workdir) / "src"
        source.mkdir()
        shutil.copy2(HERE / "pyproject.toml", source / "pyproject.toml")
        shutil.copytree(
            HERE / "localstack_host_runtime",
            source / "localstack_host_runtime",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        subprocess.run([*pip, "--force-reinstall", "--no-deps", str(source)], stdout=sys.stderr, check=True)
    stamp.write_text(wanted)
    return True


# --------------------------------------------------------------------------- services


def connection_settings() -> dict[str, str]:
    """What the deployed functions connect to: the native services of infra.services."""
    local = local_services()
    return {
        "DATABASE_URL": os.environ.get("LOCALSTACK_DATABASE_URL") or local.database_url(LOCALSTACK_DATABASE),
        # A Redis database of its own: rate-limit windows and seat gates apart from `make run`'s.
        "REDIS_URL": os.environ.get("LOCALSTACK_REDIS_URL") or local.redis_url(LOCALSTACK_REDIS_DB),
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("LOCALSTACK_KAFKA_BOOTSTRAP_SERVERS")
        or local.kafka_bootstrap_servers,
    }


def project_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CONNECTION_VARIABLES}
    env.update(extra)
    return env


# Run with the project's interpreter: creates the stack's database on the native PostgreSQL
# when it is missing (infra.services makes only `cinema` and `cinema_test`).
CREATE_DATABASE = """
import sys
from urllib.parse import urlparse
import psycopg
url, port = urlparse(sys.argv[1]), int(sys.argv[2])
name = url.path.lstrip("/")
if url.hostname in ("127.0.0.1", "localhost") and url.port == port and name:
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            owner = url.username or "cinema"
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
            print(f"[localstack] created database {name}", file=sys.stderr)
"""


def services_up(paths: Paths) -> None:
    # Their progress goes to stderr: stdout of `up` is the URL only.
    subprocess.run(
        [str(paths.project_python), "-m", "infra.services", "up"],
        cwd=PROJECT_ROOT,
        env=project_env(),
        stdout=sys.stderr,
        check=True,
    )
    database_url = connection_settings()["DATABASE_URL"]
    pg_port = str(local_services().pg_port)
    subprocess.run(
        [str(paths.project_python), "-c", CREATE_DATABASE, database_url, pg_port], stdout=sys.stderr, check=True
    )
    subprocess.run(
        [str(paths.project_python), "-m", "chalicelib.jobs.migrate"],
        cwd=PROJECT_ROOT,
        env=project_env(DATABASE_URL=database_url),
        stdout=sys.stderr,
        check=True,
    )


# --------------------------------------------------------------------------- LocalStack


def health(paths: Paths, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"{paths.endpoint}/_localstack/health", timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def running_pid(paths: Paths) -> int | None:
    try:
        pid = int(paths.pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def localstack_env(paths: Paths) -> dict[str, str]:
    home = paths.home
    for folder in ("state", "volume", "tmp", "lambda"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "SSL_CERT_FILE", "SSL_CERT_DIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    # Every LocalStack and Lambda-runtime setting of the shell passes, ours below win.
    env.update({k: v for k, v in os.environ.items() if k.startswith(("LAMBDA_", "LS_", "DEBUG"))})
    env.update(
        {
            "OVERRIDE_IN_DOCKER": "0",  # the sandbox has /.dockerenv
            "GATEWAY_LISTEN": f"127.0.0.1:{paths.port}",
            "GATEWAY_SERVER": "hypercorn",
            "LOCALSTACK_HOST": f"127.0.0.1:{paths.port}",
            "SQS_ENDPOINT_STRATEGY": "path",
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "FILESYSTEM_ROOT": str(home / "state"),
            "VOLUME_DIR": str(home / "volume"),
            "TMPDIR": str(home / "tmp"),
            "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR_NAME,
            "LAMBDA_HOST_PYTHON": str(paths.project_python),
            "LAMBDA_HOST_LOG_DIR": str(home / "lambda"),
        }
    )
    # A cold start imports the whole app; on a busy two-core machine that can take a while.
    env.setdefault("LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT", "60")
    return env


def start_localstack(paths: Paths) -> None:
    if health(paths) is not None:
        if running_pid(paths) is None:
            log(
                f"something already answers on {paths.endpoint} that this script did not start; using it "
                f"(its Lambda functions only run here if it uses LAMBDA_RUNTIME_EXECUTOR={EXECUTOR_NAME})"
            )
        else:
            log(f"LocalStack already up on {paths.endpoint} (pid {running_pid(paths)})")
        return
    if running_pid(paths) is not None:
        raise StackError(f"LocalStack (pid {running_pid(paths)}) is running but does not answer: run `down` first")
    paths.home.mkdir(parents=True, exist_ok=True)
    log(f"starting LocalStack {LOCALSTACK_VERSION} in host mode on {paths.endpoint} (log: {paths.logfile})")
    with open(paths.logfile, "ab") as logfile:
        process = subprocess.Popen(
            [str(paths.venv_python), "-m", "localstack.runtime.main"],
            cwd=paths.home,
            env=localstack_env(paths),
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths.pidfile.write_text(str(process.pid))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.pidfile.unlink(missing_ok=True)
            raise StackError(f"LocalStack exited with {process.returncode}:\n{tail(paths.logfile)}")
        if health(paths) is not None:
            log(f"LocalStack ready (pid {process.pid})")
            return
        time.sleep(0.5)
    raise StackError(f"LocalStack did not answer {paths.endpoint}/_localstack/health in 180 s:\n{tail(paths.logfile)}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_localstack(paths: Paths, timeout: float = 30.0) -> None:
    pid = running_pid(paths)
    if pid is None:
        paths.pidfile.unlink(missing_ok=True)
        log("LocalStack is not running")
        return
    log(f"stopping LocalStack (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    if not wait_for_exit(pid, timeout):
        log("LocalStack did not stop in time; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    paths.pidfile.unlink(missing_ok=True)
    log("LocalStack stopped")


# --------------------------------------------------------------------------- deploy


def aws_env(paths: Paths) -> dict[str, str]:
    return project_env(
        # Packaged and deployed as the local stage runs: no JWT authorizer on the routes.
        AUTH_MODE="off",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",  # noqa: S106 - LocalStack's fixed credentials
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        AWS_ENDPOINT_URL=paths.endpoint,
    )


# The functions' pool: one connection per execution environment, as in AWS (docs/deploy.md).
LAMBDA_POOL_SETTINGS = ("DB_POOL_MIN_SIZE=1", "DB_POOL_MAX_SIZE=1")


def deploy(paths: Paths) -> str:
    """The local stage's app stack, through CloudFormation change sets (infra/stacks.py)."""
    settings = connection_settings()
    command = [
        str(paths.project_python),
        "-m",
        "infra.stacks",
        "deploy",
        "--stage",
        STAGE,
        "--endpoint-url",
        paths.endpoint,
        "--database-url",
        settings["DATABASE_URL"],
        "--redis-url",
        settings["REDIS_URL"],
        "--kafka-bootstrap-servers",
        settings["KAFKA_BOOTSTRAP_SERVERS"],
    ]
    for setting in LAMBDA_POOL_SETTINGS:
        command += ["--setting", setting]
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=aws_env(paths), stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        raise StackError(f"deploy failed (exit {result.returncode}): {' '.join(command)}")
    return result.stdout.strip().splitlines()[-1]


def api_url(paths: Paths) -> str:
    if health(paths) is None:
        raise StackError(f"LocalStack does not answer on {paths.endpoint}: run `python -m infra.localstack.stack up`")
    result = subprocess.run(
        [str(paths.project_python), "-m", "infra.stacks", "url", "--stage", STAGE, "--endpoint-url", paths.endpoint],
        cwd=PROJECT_ROOT,
        env=aws_env(paths),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError("no deployed API: run `python -m infra.localstack.stack up`")
    return result.stdout.strip().splitlines()[-1]


def wait_for_api(url: str, timeout: float = 120.0) -> None:
    """The first request is a cold start of the API function: wait until it answers."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/sessions?limit=1", timeout=60) as response:  # noqa: S310
                if response.status == 200:
                    return
                last = str(response.status)
        except urllib.error.HTTPError as exc:
            last = f"{exc.code} {exc.read()[:300]!r}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(1)
    raise StackError(f"{url}/sessions did not answer 200 in {timeout:.0f} s (last: {last})")


# --------------------------------------------------------------------------- commands


def up(paths: Paths, *, services: bool = True) -> str:
    started = time.monotonic()
    ensure_project_venv(paths)
    if ensure_localstack(paths) and running_pid(paths) is not None:
        log("the host runtime executor changed: restarting LocalStack (its state is in memory; deploying again)")
        stop_localstack(paths)
    deployed = paths.home / "connections.json"
    settings = connection_settings()
    if running_pid(paths) is not None and deployed.exists() and json.loads(deployed.read_text()) != settings:
        # Warm handler processes keep the settings they read: start them afresh.
        log("the connection settings changed: restarting LocalStack (deploying again)")
        stop_localstack(paths)
    if services:
        services_up(paths)
    start_localstack(paths)
    url = deploy(paths)
    deployed.write_text(json.dumps(settings))
    wait_for_api(url)
    log(f"up in {time.monotonic() - started:.1f} s: {url}")
    return url


def status(paths: Paths) -> int:
    pid = running_pid(paths)
    answer = health(paths)
    print(f"localstack  {'up' if answer else 'down'}  {paths.endpoint}" + (f"  (pid {pid})" if pid else ""))
    if answer:
        try:
            print(f"api         {api_url(paths)}")
        except StackError as exc:
            print(f"api         {exc}")
    return 0 if answer else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.localstack.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "url", "down", "status"])
    parser.add_argument("--no-services", action="store_true", help="up: do not start PostgreSQL, Redis and Kafka")
    args = parser.parse_args(argv)
    paths = Paths.from_env()
    try:
        if args.command == "up":
            print(up(paths, services=not args.no_services), flush=True)
        elif args.command == "url":
            print(api_url(paths), flush=True)
        elif args.command == "down":
            stop_localstack(paths)
        else:
            return status(paths)
    except (StackError, subprocess.CalledProcessError) as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
