"""Profile the API instances under load with py-spy, and say where the time goes.

    python -m bench.profile --concurrency 8 --seconds 12            # CPU (threads holding the GIL)
    python -m bench.profile --concurrency 1 --seconds 12 --idle     # wall clock of a request
    python -m bench.profile --scenario floor --concurrency 16       # the serving path alone

Starts the 4 instances (like ``make bench``), drives uniform 1-seat holds at the given
concurrency, records every instance with ``py-spy record --format raw`` meanwhile, and
prints the functions with the largest share of samples (inclusive and self), plus the CPU
per hold of each component (bench/cpu.py). The ``floor`` scenario sends a request that
crosses the whole serving path (nginx, Granian, Chalice's local gateway, the middleware,
routing and the error mapping) and is refused with a 400 before any I/O: what any request
costs the API process before the service does anything. Collapsed stacks are kept in .local/bench/ (feed
them to any flame-graph tool).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.__main__ import with_api
from bench.cpu import CpuMeter, per_operation_ms
from bench.load import LoadDriver, SeatPool, closed_loop, summary_ms
from bench.scenarios import hot_seat, uniform_holds
from bench.stack import LOG_DIR, PYTHON, LocalRun, services_up, wait_for_quiet_machine

PY_SPY = str(Path(PYTHON).parent / "py-spy")


def summarize(collapsed: list[Path], top: int) -> dict[str, list[tuple[str, float]]]:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for path in collapsed:
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            if frames:
                self_time[frames[-1]] += count
    share = lambda c: [(frame, round(100.0 * n / total, 1)) for frame, n in c.most_common(top)]  # noqa: E731
    return {"samples": [("total", total)], "inclusive_pct": share(inclusive), "self_pct": share(self_time)}


async def refused_before_any_io(api: LoadDriver, concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def step(worker: int, _: int) -> bool:
        reply = await api.call(worker, "GET", "/sessions/not-a-uuid", parse=False)
        statuses[reply.status] += 1
        latencies.append(reply.latency)
        return True

    elapsed = await closed_loop(concurrency, seconds, step)
    if set(statuses) != {400}:
        raise RuntimeError(f"the floor request should be refused with a 400, got {dict(statuses)}")
    return {"holds": len(latencies), "holds_per_s": len(latencies) / elapsed, "latency_ms": summary_ms(latencies)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["uniform", "hot-seat", "floor"], default="uniform")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--idle", action="store_true", help="include waiting threads (wall-clock profile)")
    parser.add_argument("--no-workers", action="store_true", help="no sweeper, relay or Kafka consumers")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--rate", type=int, default=97, help="py-spy samples per second")
    args = parser.parse_args(argv)

    wait_for_quiet_machine()
    services_up()
    stack = LocalRun(workers=not args.no_workers)
    stack.start()
    outputs: list[Path] = []
    try:
        tag = time.strftime("%Y%m%d-%H%M%S")
        sessions = with_api(stack.urls, lambda api: api.create_sessions(f"bench {tag} profile", 30, 500))
        pool = SeatPool(sessions)
        recorders = []
        for index, pid in enumerate(stack.instance_pids()):
            out = LOG_DIR / f"profile-{tag}-instance{index + 1}.txt"
            outputs.append(out)
            cmd = [PY_SPY, "record", "-p", str(pid), "-d", str(int(args.seconds)), "-r", str(args.rate)]
            cmd += ["--format", "raw", "-o", str(out), "--nonblocking"]
            cmd.append("--idle" if args.idle else "--gil")
            recorders.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        result: dict = {}

        def load() -> None:
            async def go(api: LoadDriver) -> dict:
                if args.scenario == "hot-seat":
                    attempts, out = 0, {"holds": 0, "requests": 0}
                    started = time.perf_counter()
                    while time.perf_counter() - started < args.seconds:
                        run = await hot_seat(api, tag, attempts=1000, concurrency=args.concurrency)
                        attempts += run["attempts"]
                        out = {"holds": attempts, "latency_ms": run["latency_409_ms"], "statuses": run["statuses"]}
                    out["holds_per_s"] = attempts / (time.perf_counter() - started)
                    return out
                if args.scenario == "floor":
                    return await refused_before_any_io(api, args.concurrency, args.seconds)
                return await uniform_holds(api, pool, tag, concurrency=args.concurrency, duration=args.seconds)

            result.update(with_api(stack.urls, go))

        with CpuMeter(stack.instance_pids(), stack.pid) as meter:
            thread = threading.Thread(target=load)
            thread.start()
            thread.join()
        for recorder in recorders:
            recorder.wait(60)
    finally:
        stack.stop()
    summary = summarize([p for p in outputs if p.exists()], args.top)
    print(
        json.dumps(
            {
                "concurrency": args.concurrency,
                "workers": not args.no_workers,
                "holds_per_s": result.get("holds_per_s"),
                "latency_ms": result.get("latency_ms"),
                "cpu_cores_busy": meter.result.get("cores_busy"),
                "cpu_ms_per_hold": per_operation_ms(meter.result, result.get("holds", 0)),
                "profiles": [str(p) for p in outputs],
            },
            indent=1,
        )
    )
    for kind in ("inclusive_pct", "self_pct"):
        print(f"\n{kind} (share of py-spy samples over the 4 instances{', idle included' if args.idle else ''}):")
        for frame, pct in summary[kind]:
            print(f"{pct:6.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
