"""``make run``: N API processes side by side (like N Lambda instances) plus the workers.

    python -m infra.run_local --instances 4 --port 8000

Each API process is ``chalice local --no-autoreload`` on consecutive ports. The workers
invoke the same scheduled handlers AWS runs (expiry sweeper, outbox relay) with real
EventBridge scheduled-event payloads every few seconds. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def api_command(port: int, stage: str) -> list[str]:
    # `chalice local`, with TCP_NODELAY on its connections (infra/chalice_local.py).
    local = [sys.executable, "-m", "infra.chalice_local", "local", "--no-autoreload", "--host", "127.0.0.1"]
    return [*local, "--port", str(port), "--stage", stage]


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=int(os.environ.get("INSTANCES", "1")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument("--sweep-interval", type=float, default=float(os.environ.get("SWEEP_INTERVAL_SECONDS", "5")))
    parser.add_argument("--relay-interval", type=float, default=float(os.environ.get("RELAY_INTERVAL_SECONDS", "2")))
    parser.add_argument("--no-workers", action="store_true")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    commands: list[list[str]] = []
    for index in range(args.instances):
        port = args.port + index
        commands.append(api_command(port, args.stage))
        print(f"[run] API instance {index + 1} on http://127.0.0.1:{port}", flush=True)
    if not args.no_workers:
        for job, interval in (("expire_reservations", args.sweep_interval), ("relay_outbox", args.relay_interval)):
            commands.append([sys.executable, "-m", "infra.scheduler", job, "--interval", str(interval)])
            print(f"[run] worker {job} every {interval:g}s", flush=True)
        for consumer in ("metrics", "audit"):
            commands.append([sys.executable, "-m", "chalicelib.jobs.consumers", consumer])
            print(f"[run] Kafka consumer {consumer}", flush=True)
    processes = [start(cmd, env) for cmd in commands]

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        # A process that dies (a crash, or kill -9 in a chaos run) is replaced, the way
        # Lambda starts a fresh instance.
        for slot, process in enumerate(processes):
            if process.poll() is not None:
                print(f"[run] {' '.join(commands[slot][-6:])} exited with {process.returncode}; restarting", flush=True)
                processes[slot] = start(commands[slot], env)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
