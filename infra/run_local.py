"""``make run``: N API processes (like N Lambda execution environments) behind an nginx edge
(like API Gateway), plus the workers.

    python -m infra.run_local --instances 4 --port 8000

- Each API process is Granian serving ``infra.api_server`` (Chalice's local gateway, so the
  app receives API Gateway proxy events and the stage's authorizers run) on a unix socket,
  one request at a time per process unless ``--threads`` says otherwise.
- nginx listens on ``--port`` and spreads requests over the processes (``infra.edge_proxy``).
- The workers invoke the same scheduled handlers AWS runs (expiry sweeper, outbox relay) with
  real EventBridge scheduled-event payloads every few seconds, and run the Kafka consumers.

A process that dies is started again, the way Lambda replaces an environment. Ctrl-C stops
everything.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from infra.edge_proxy import Edge

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("CINEMA_LOCAL_DIR", PROJECT_ROOT / ".local")) / "run"
GRANIAN = str(Path(sys.executable).parent / "granian")


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=self.env, start_new_session=True)


def api_socket(port: int, index: int) -> Path:
    return RUN_DIR / f"api-{port}-{index}.sock"


def api_command(socket: Path, threads: int) -> list[str]:
    return [
        GRANIAN,
        "--interface",
        "wsgi",
        "--factory",
        "--uds",
        str(socket),
        "--uds-permissions",
        "0o600",
        "--workers",
        "1",
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--respawn-failed-workers",
        "--log-level",
        "warning",
        "infra.api_server:create_application",
    ]


def children(args: argparse.Namespace) -> list[Child]:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    api_env = {**os.environ, "CHALICE_STAGE": args.stage}
    sockets = tuple(api_socket(args.port, index) for index in range(args.instances))
    for socket in sockets:
        socket.unlink(missing_ok=True)
    edge = Edge(
        prefix=RUN_DIR / f"edge-{args.port}",
        host=args.host,
        port=args.port,
        sockets=sockets,
        header_timeout_seconds=args.header_timeout,
        idle_timeout_seconds=args.idle_timeout,
    )
    edge.render()
    found = [Child(f"api-{i}", api_command(s, args.threads), api_env) for i, s in enumerate(sockets)]
    found.append(Child("edge", edge.command(), dict(os.environ)))
    if not args.no_workers:
        for job, interval in (("expire_reservations", args.sweep_interval), ("relay_outbox", args.relay_interval)):
            command = [sys.executable, "-m", "infra.scheduler", job, "--interval", str(interval)]
            found.append(Child(job, command, dict(os.environ)))
        for consumer in ("metrics", "audit"):
            found.append(
                Child(
                    f"{consumer}-consumer",
                    [sys.executable, "-m", "chalicelib.jobs.consumers", consumer],
                    dict(os.environ),
                )
            )
    return found


def allow_open_files(wanted: int = 65536) -> int:
    """Raise this process's soft limit of open files (its children inherit it) as far as the
    hard limit allows. Each request in flight holds a client and an upstream socket at the
    edge, so a burst of 1,000 connections needs more than the usual soft limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=int(os.environ.get("INSTANCES", "1")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("API_THREADS", "1")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument("--sweep-interval", type=float, default=float(os.environ.get("SWEEP_INTERVAL_SECONDS", "5")))
    parser.add_argument("--relay-interval", type=float, default=float(os.environ.get("RELAY_INTERVAL_SECONDS", "2")))
    parser.add_argument("--no-workers", action="store_true")
    parser.add_argument(
        "--header-timeout",
        type=int,
        default=int(os.environ.get("EDGE_HEADER_TIMEOUT_SECONDS", "10")),
        help="seconds a client has to send a request's headers (or body) before the edge closes it",
    )
    parser.add_argument(
        "--idle-timeout",
        type=int,
        default=int(os.environ.get("EDGE_IDLE_TIMEOUT_SECONDS", "30")),
        help="seconds an idle keep-alive connection stays open",
    )
    args = parser.parse_args(argv)

    open_files = allow_open_files()
    if open_files < 4096:
        print(
            f"[run] only {open_files} open files allowed (ulimit -Hn): the edge cannot answer bursts "
            f"of more than about {open_files // 2} connections",
            flush=True,
        )
    # Quiet locally: no CloudWatch metrics to print (the stages set the rest, .chalice/config.json).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    running = children(args)
    for child in running:
        child.start()
    print(
        f"[run] API on http://{args.host}:{args.port} (nginx) over {args.instances} process(es), stage {args.stage}",
        flush=True,
    )
    if not args.no_workers:
        print(
            f"[run] workers: expiry sweep every {args.sweep_interval:g}s, outbox relay every "
            f"{args.relay_interval:g}s, Kafka consumers metrics and audit",
            flush=True,
        )

    def stop(*_: object) -> None:
        for child in running:
            if child.process is not None and child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in running:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        for child in running:
            if child.process is not None and child.process.poll() is not None:
                print(f"[run] {child.name} exited with {child.process.returncode}; restarting", flush=True)
                child.start()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
