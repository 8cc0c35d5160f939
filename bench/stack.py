"""Starts and stops what a benchmark needs: the local services, the schema, and N API
instances with their workers (``infra.run_local``) on the benchmark ports 18000+.

The instances run the ``local`` stage (AUTH_MODE=off: the userId in the body is trusted)
with the abuse limits lifted, so a benchmark measures the booking path and not the 429s:

    RATE_LIMIT_PER_IP=100000000 RATE_LIMIT_PER_USER=100000000

Every benchmark client also uses distinct userIds, so MAX_HELD_SEATS_PER_USER (20) is
never the reason a hold fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from chalicelib.config import local_services
from tests.api_client import ApiClient, OverHttp

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOG_DIR = PROJECT_ROOT / ".local" / "bench"
LOCAL_RUN_DIR = PROJECT_ROOT / ".local" / "run"
DEFAULT_PORT = 18000
DEFAULT_INSTANCES = 4
SWEEP_INTERVAL_SECONDS = 5.0
RELAY_INTERVAL_SECONDS = 2.0
BENCH_ENV = {
    "RATE_LIMIT_PER_IP": "100000000",
    "RATE_LIMIT_PER_USER": "100000000",
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def running_pytests() -> list[str]:
    """Command lines of pytest processes running on this machine (other people's test runs)."""
    out = subprocess.run(["pgrep", "-fa", "pytest"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip() and "pgrep" not in line]


def wait_for_quiet_machine(max_wait: float = 600.0, poll: float = 30.0, say: Callable[[str], None] = log) -> bool:
    """The machine has 2 cores shared with other test runs: wait (polling) until no pytest runs.
    Returns False if one was still running after ``max_wait`` seconds (the caller goes on)."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = running_pytests()
        if not busy:
            return True
        if time.monotonic() >= deadline:
            say(f"pytest still running after {max_wait:.0f}s; going on anyway: {busy[0][:120]}")
            return False
        say(f"waiting for {len(busy)} pytest process(es) to finish: {busy[0][:120]}")
        time.sleep(poll)


def services_up() -> None:
    """PostgreSQL, Redis and Kafka (idempotent), then the schema."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / "services.log", "ab") as out:
        subprocess.run([PYTHON, "-m", "infra.services", "up"], cwd=PROJECT_ROOT, check=True, stdout=out, stderr=out)
        subprocess.run([PYTHON, "-m", "chalicelib.jobs.migrate"], cwd=PROJECT_ROOT, check=True, stdout=out, stderr=out)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def api_instance(args: list[str]) -> tuple[int, int] | None:
    """(edge port, instance index) of an API process of ``infra.run_local`` from its command
    line (Granian serving ``infra.api_server`` on ``.local/run/api-<port>-<index>.sock``), or
    None if it is not one."""
    if "infra.api_server:create_application" not in args or "--uds" not in args:
        return None
    at = args.index("--uds") + 1
    name = Path(args[at]).name if at < len(args) else ""
    parts = name.removesuffix(".sock").split("-")
    if len(parts) != 3 or parts[0] != "api" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])


class LocalRun:
    """``python -m infra.run_local --instances N --port P`` as a child process group."""

    def __init__(
        self,
        instances: int = DEFAULT_INSTANCES,
        port: int = DEFAULT_PORT,
        *,
        workers: bool = True,
    ) -> None:
        self.instances = instances
        self.port = port
        self.workers = workers  # False: no sweeper, relay or consumers (diagnostics only)
        self.runner = "infra.run_local"
        # One URL: the nginx edge spreads requests over the instances, as API Gateway would.
        self.urls = [f"http://127.0.0.1:{port}"]
        self.process: subprocess.Popen | None = None
        self.log_path = LOG_DIR / "run_local.log"

    def start(self, timeout: float = 120.0) -> None:
        if port_open(self.port):
            raise SystemExit(f"[bench] port {self.port} is already in use; stop what runs there first")
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **BENCH_ENV}
        cmd = [
            PYTHON,
            "-m",
            self.runner,
            "--instances",
            str(self.instances),
            "--port",
            str(self.port),
            "--stage",
            "local",
            "--sweep-interval",
            str(SWEEP_INTERVAL_SECONDS),
            "--relay-interval",
            str(RELAY_INTERVAL_SECONDS),
            *([] if self.workers else ["--no-workers"]),
        ]
        out = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        log(
            f"started {self.instances} API instances ({self.runner}) behind http://127.0.0.1:{self.port}, "
            f"log {self.log_path.relative_to(PROJECT_ROOT)}"
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Every instance serving (its worker process is up) and the edge answering."""
        deadline = time.monotonic() + timeout
        while len(self.instance_pids()) < self.instances and time.monotonic() < deadline:
            time.sleep(0.3)
        pending = list(self.urls)
        while pending and time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"[bench] run_local exited with {self.process.returncode}; see {self.log_path}")
            for url in list(pending):
                try:
                    if httpx.get(f"{url}/sessions?limit=1", timeout=2).status_code == 200:
                        pending.remove(url)
                except httpx.HTTPError:
                    pass
            if pending:
                time.sleep(0.3)
        if pending:
            raise SystemExit(f"[bench] API instances {pending} not ready after {timeout:.0f}s")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        """SIGTERM to run_local's process group; it stops its instances and workers."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        except ProcessLookupError:
            pass
        log("API instances and workers stopped")
        self.process = None

    def __enter__(self) -> LocalRun:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Processes of this stack (for chaos) -----------------------------------------------------

    def instance_pid(self, index: int) -> int | None:
        """The pid of the process serving instance ``index``: Granian's worker (the child of
        its supervising process, which starts a new worker when one dies)."""
        matching = {pid: _parent(pid) for pid in _pids() if api_instance(_cmdline(pid)) == (self.port, index)}
        workers = [pid for pid, parent in matching.items() if parent in matching]
        return workers[0] if workers else None

    def instance_pids(self) -> list[int]:
        return [pid for pid in (self.instance_pid(i) for i in range(self.instances)) if pid is not None]

    def socket(self, index: int) -> Path:
        """The unix socket instance ``index`` serves on (the edge's upstream)."""
        return LOCAL_RUN_DIR / f"api-{self.port}-{index}.sock"

    def instance_client(self, index: int, timeout: float = 30.0) -> ApiClient:
        """The API client, talking to instance ``index`` directly, past the edge."""
        return ApiClient(OverHttp(["http://api"], timeout=timeout, uds=str(self.socket(index))))

    def edge_pids(self) -> list[int]:
        """nginx's processes of this stack."""
        marker = str(LOCAL_RUN_DIR / f"edge-{self.port}")
        masters = [pid for pid in _pids() if marker in " ".join(_cmdline(pid)) and "nginx" in " ".join(_cmdline(pid))]
        return masters + [pid for pid in _pids() if _parent(pid) in masters]


def _parent(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def postgres_client_ports(pids: list[int], pg_port: int | None = None) -> set[int]:
    """Local TCP ports of the connections these processes hold to PostgreSQL, from /proc:
    their socket inodes, matched against /proc/net/tcp. Used to terminate the backends of
    our own API instances only, never anyone else's."""
    pg_port = pg_port or local_services().pg_port
    inodes: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == pg_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports
