"""``python -m bench quick`` (make bench) and ``python -m bench full`` (make bench-full).

Both bring up what they need (services, schema, 4 API instances with their workers on
ports 18000-18003), run the scenarios, check the invariants after every run, stop the
instances, print a table and end with one line of JSON. ``full`` also runs the chaos
faults and writes docs/perf/REPORT.md, docs/perf/results.json and
docs/perf/throughput-latency.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bench import baseline, chaos, coldstart, edge, report, scenarios
from bench.cpu import CpuMeter, per_operation_ms
from bench.invariants import TopicLog, check
from bench.load import LoadDriver, SeatPool, summary_ms
from bench.stack import (
    BENCH_ENV,
    DEFAULT_INSTANCES,
    DEFAULT_PORT,
    PROJECT_ROOT,
    SWEEP_INTERVAL_SECONDS,
    LocalRun,
    log,
    services_up,
    wait_for_quiet_machine,
)
from chalicelib.config import get_settings

T = TypeVar("T")

SEATS_PER_SESSION = 500
API_RATE_CAP = 1500  # holds/s a level could reach, to size the seat pools
RAW_RATE_CAP = 3000


class Plan:
    def __init__(self, mode: str) -> None:
        full = mode == "full"
        self.mode = mode
        self.levels = [1, 4, 8, 16, 32] if full else [1, 8, 16, 32]
        self.api_seconds = 8.0 if full else 6.0
        self.raw_seconds = 6.0 if full else 5.0
        self.hot_seat_runs = 20 if full else 3
        self.hot_seat_attempts = 2000
        self.hot_seat_concurrency = 16
        self.hot_seat_low_concurrency = 8 if full else 0  # extra runs at 8 clients (full)
        self.hot_seat_low_attempts = 1000
        self.hot_section_runs = 3 if full else 1
        self.flow_levels = [8, 32] if full else [8]
        self.flow_seconds = 8.0 if full else 6.0
        self.import_runs = 5 if full else 3
        self.section_seats = 100
        self.section_users = 5000
        self.burst_connections = 1000
        self.chaos = full
        self.only_chaos = mode == "chaos"  # just the chaos faults (--faults to pick), on a fresh stack
        if mode == "chaos":
            self.chaos = True
        if mode == "smoke":  # a functional check of the bench itself, seconds per step
            self.levels = [2]
            self.api_seconds = self.raw_seconds = self.flow_seconds = 2.0
            self.hot_seat_runs, self.hot_seat_attempts = 1, 200
            self.section_users = 1000
            self.flow_levels = [2]
            self.import_runs = 1
            self.hot_seat_low_concurrency = 4
            self.hot_seat_low_attempts = 200
            self.burst_connections = 200


def with_api(urls: list[str], fn: Callable[[LoadDriver], Awaitable[T]]) -> T:
    async def go() -> T:
        async with LoadDriver(urls) as api:
            return await fn(api)

    return asyncio.run(go())


class Bench:
    def __init__(self, plan: Plan, instances: int, port: int) -> None:
        self.plan = plan
        self.instances = instances
        self.port = port
        self.tag = time.strftime("%Y%m%d-%H%M%S")
        settings = get_settings()
        self.topic = f"{settings.kafka_topic_prefix}.booking-events"
        self.bootstrap = settings.kafka_bootstrap_servers
        self.topic_log: TopicLog | None = None
        self.results: dict[str, Any] = {
            "mode": plan.mode,
            "tag": self.tag,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": _git("rev-parse", "--short", "HEAD"),
            "machine": {"cores": os.cpu_count(), "load_at_start": os.getloadavg()},
            "config": {
                "instances": instances,
                "edge_port": port,
                "env": BENCH_ENV,
                "stage": "local (AUTH_MODE=off)",
                "reservation_ttl_s": settings.reservation_ttl_seconds,
                "seat_gate_ttl_ms": settings.seat_gate_ttl_ms,
                "db_pool_max_per_instance": settings.db_pool_max_size,
                "sweep_interval_s": SWEEP_INTERVAL_SECONDS,
                "levels": plan.levels,
                "api_seconds_per_level": plan.api_seconds,
                "raw_seconds_per_level": plan.raw_seconds,
            },
            "invariants": [],
        }

    # helpers ---------------------------------------------------------------------------

    def check(self, scenario: str, sessions: list[str], *, kafka_sessions: list[str] | None = None) -> dict:
        started = time.monotonic()
        inv = check(
            sessions,
            topic_log=self.topic_log,
            kafka_sessions=kafka_sessions,
            sweep_interval=SWEEP_INTERVAL_SECONDS,
        ).as_dict()
        inv["scenario"] = scenario
        inv["check_seconds"] = round(time.monotonic() - started, 1)
        self.results["invariants"].append(inv)
        state = "ok" if inv["ok"] else "VIOLATED: " + ", ".join(inv["problems"])
        log(f"invariants after {scenario}: {state} ({len(sessions)} sessions, {inv['sales']} sales)")
        return inv

    def release_holds(self, stack: LocalRun, sessions: list[str]) -> None:
        """Cancel (through the API) what a throughput step left held and wait for its events to
        drain. Otherwise the step's holds expire 30 s later, in the middle of a later step, and
        the sweeper, relay and consumers working on them take CPU from that measurement."""
        held = _pending_reservations(sessions)
        statuses = with_api(stack.urls, lambda api: scenarios.cancel_all(api, held)) if held else {}
        deadline = time.monotonic() + 60
        while _unpublished(sessions) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)  # the consumers fetch in batches of up to 100 ms, then commit
        log(f"released {len(held)} holds {statuses}; events drained")

    def fresh_pool(self, urls: list[str], name: str, seats_needed: int) -> tuple[SeatPool, list[str]]:
        """A seat pool of at least ``seats_needed`` free seats over fresh sessions."""
        count = max(1, -(-seats_needed // SEATS_PER_SESSION))
        created = with_api(urls, lambda api: api.create_sessions(name, count, SEATS_PER_SESSION))
        return SeatPool(created), [s for s, _ in created]

    # scenarios -------------------------------------------------------------------------

    def throughput(
        self, stack: LocalRun, key: str = "throughput", raw_too: bool = True, levels: list[int] | None = None
    ) -> dict[str, Any]:
        urls = stack.urls
        levels = levels or self.plan.levels
        out: dict[str, Any] = {"levels": levels, "api": {}, "raw": {}}
        raw_sessions: list[str] = []
        api_sessions: list[str] = []
        for level in levels:
            if raw_too:
                pool, ids = self.fresh_pool(
                    urls, f"bench {self.tag} raw-sql c{level}", int(RAW_RATE_CAP * self.plan.raw_seconds)
                )
                raw_sessions += ids
                with baseline.RawSql(level) as sql, CpuMeter(stack.instance_pids(), stack.pid) as meter:
                    elapsed, timings = baseline.holds(sql, pool, level, self.plan.raw_seconds, self.tag)
                lat = timings.ok.get("hold", [])
                out["raw"][level] = {
                    "concurrency": level,
                    "elapsed_s": elapsed,
                    "holds": len(lat),
                    "holds_per_s": len(lat) / elapsed,
                    "failed": timings.failed,
                    "latency_ms": summary_ms(lat),
                    "pool_exhausted": pool.remaining == 0,
                    "cpu_cores_busy": meter.result["cores_busy"],
                    "cpu_ms_per_hold": per_operation_ms(meter.result, len(lat)),
                }
                p99 = out["raw"][level]["latency_ms"]["p99"]
                log(f"[{key}] raw SQL   c={level:<3} {len(lat) / elapsed:8.1f} holds/s  p99 {p99:.1f} ms")
                self.release_holds(stack, ids)
            pool, ids = self.fresh_pool(
                urls, f"bench {self.tag} {key} c{level}", int(API_RATE_CAP * self.plan.api_seconds)
            )
            api_sessions += ids
            with CpuMeter(stack.instance_pids(), stack.pid) as meter:
                result = with_api(
                    urls,
                    lambda api, pool=pool, level=level: scenarios.uniform_holds(
                        api, pool, self.tag, concurrency=level, duration=self.plan.api_seconds
                    ),
                )
            result["cpu_cores_busy"] = meter.result["cores_busy"]
            result["cpu_ms_per_hold"] = per_operation_ms(meter.result, result["holds"])
            out["api"][level] = result
            log(
                f"[{key}] API       c={level:<3} {result['holds_per_s']:8.1f} holds/s  "
                f"p99 {result['latency_ms']['p99']:.1f} ms  {result['statuses']}"
            )
            self.release_holds(stack, ids)
        self.check(key, api_sessions + raw_sessions, kafka_sessions=api_sessions)
        return out

    def hot_seat(
        self, stack: LocalRun, runs: int, key: str = "hot_seat", concurrency: int = 0, attempts: int = 0
    ) -> dict[str, Any]:
        concurrency = concurrency or self.plan.hot_seat_concurrency
        attempts = attempts or self.plan.hot_seat_attempts
        out: dict[str, Any] = {"runs": [], "attempts": attempts, "concurrency": concurrency}
        pooled: list[float] = []
        for n in range(runs):
            result = with_api(
                stack.urls,
                lambda api: scenarios.hot_seat(
                    api,
                    self.tag,
                    attempts=attempts,
                    concurrency=concurrency,
                ),
            )
            pooled += result.pop("latencies_409")
            inv = self.check(f"{key} run {n + 1}", result["sessions"])
            result["invariants_ok"] = inv["ok"]
            out["runs"].append(result)
            log(
                f"[{key}] run {n + 1}/{runs}: {result['successes']} success(es), "
                f"409 p99 {result['latency_409_ms']['p99']:.1f} ms, {result['statuses']}"
            )
        out["exactly_one"] = sum(1 for r in out["runs"] if r["successes"] == 1)
        out["latency_409_ms"] = summary_ms(pooled)
        return out

    def hot_section(self, stack: LocalRun, runs: int) -> dict[str, Any]:
        out: dict[str, Any] = {"runs": []}
        for n in range(runs):
            result = with_api(
                stack.urls,
                lambda api, n=n: scenarios.hot_section(
                    api, self.tag, seats=self.plan.section_seats, users=self.plan.section_users, seed=11 + n
                ),
            )
            # The database must agree: exactly `seats` seats under live holds, none twice.
            inv = self.check(f"hot_section run {n + 1}", result["sessions"])
            result["db_live_held_seats"] = _live_held(result["session_id"])
            result["invariants_ok"] = inv["ok"]
            out["runs"].append(result)
            log(
                f"[hot_section] run {n + 1}/{runs}: {result['seats_held']} seats held "
                f"(db {result['db_live_held_seats']}), overlap {result['overlapping_seats']}, "
                f"{result['hold_requests']} requests, {result['statuses']}"
            )
        return out

    def full_flow(self, stack: LocalRun, key: str = "full_flow", raw_too: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"api": {}, "raw": {}}
        api_sessions: list[str] = []
        raw_sessions: list[str] = []
        for level in self.plan.flow_levels:
            if raw_too:
                pool, ids = self.fresh_pool(
                    stack.urls, f"bench {self.tag} raw-sql flow c{level}", int(RAW_RATE_CAP * self.plan.raw_seconds)
                )
                raw_sessions += ids
                with baseline.RawSql(level) as sql:
                    elapsed, timings = baseline.flows(
                        sql, pool, level, self.plan.raw_seconds, self.tag, scenarios.one_or_two(5)
                    )
                sales = timings.ok.get("pay", [])
                out["raw"][level] = {
                    "concurrency": level,
                    "elapsed_s": elapsed,
                    "sales": len(sales),
                    "sales_per_s": len(sales) / elapsed,
                    "failed": timings.failed,
                    "hold_latency_ms": summary_ms(timings.ok.get("hold", [])),
                    "pay_latency_ms": summary_ms(sales),
                }
                log(f"[{key}] raw SQL c={level:<3} {len(sales) / elapsed:8.1f} sales/s")
            pool, ids = self.fresh_pool(
                stack.urls, f"bench {self.tag} {key} c{level}", int(API_RATE_CAP * self.plan.flow_seconds)
            )
            api_sessions += ids
            result = with_api(
                stack.urls,
                lambda api, pool=pool, level=level: scenarios.full_flow(
                    api, pool, self.tag, concurrency=level, duration=self.plan.flow_seconds
                ),
            )
            out["api"][level] = result
            log(
                f"[{key}] API     c={level:<3} {result['sales_per_s']:8.1f} sales/s  pay p99 "
                f"{result['pay_latency_ms']['p99']:.1f} ms  holds {result['hold_statuses']} "
                f"pays {result['pay_statuses']}"
            )
        self.check(key, api_sessions + raw_sessions, kafka_sessions=api_sessions)
        return out

    def chaos(self, stack: LocalRun, only: list[str] | None = None) -> list[dict[str, Any]]:
        runs = []
        for fault in chaos.FAULTS:
            if only and fault.name not in only:
                continue
            wait_for_quiet_machine(max_wait=300)
            log(f"[chaos] {fault.name}: {fault.summary}")
            result = with_api(stack.urls, lambda api, fault=fault: chaos.chaos_run(api, stack, fault, self.tag))
            stack.wait_ready(90)
            inv = self.check(f"chaos {fault.name}", result["sessions"])
            result["invariants"] = {
                k: inv[k]
                for k in (
                    "ok",
                    "problems",
                    "sales",
                    "double_sales",
                    "double_holds",
                    "lost_events",
                    "sales_without_event",
                    "duplicate_deliveries",
                    "outbox_drain_seconds",
                    "outbox_dead",
                )
            }
            runs.append(result)
            log(
                f"[chaos] {fault.name}: {result['sales']} sales, hold {result['hold_statuses']}, "
                f"pay {result['pay_statuses']}, bursts {result['hot_bursts']} "
                f"(double hold {result['hot_bursts_double_hold']}), fault {result['fault_info']}"
            )
        return runs

    def edge(self, stack: LocalRun) -> dict[str, Any]:
        url = stack.urls[0]
        burst = with_api(stack.urls, lambda api: edge.burst(api, url, self.tag, self.plan.burst_connections))
        self.check("burst", burst["sessions"])
        log(f"[edge] burst of {burst['connections']}: {burst['statuses']} in {burst['elapsed_s']:.2f}s")
        pool, ids = self.fresh_pool(stack.urls, f"bench {self.tag} slow-clients", int(API_RATE_CAP * 6))
        slow = with_api(stack.urls, lambda api: edge.slow_clients(api, url, pool, self.tag))
        self.release_holds(stack, ids)
        log(
            f"[edge] 16 clients beside {slow['idle_connections']} idle and {slow['slowloris_connections']} slow-loris "
            f"connections: p99 {slow['load_latency_ms']['p99']:.1f} ms; {slow['closed_by_edge']} slow ones closed"
        )
        limits = edge.limits(url, stack.edge_pids())
        log(f"[edge] limits: {limits}")
        return {"burst": burst, "slow_clients": slow, "limits": limits}

    def final_expiry(self) -> dict[str, Any]:
        """Wait until every hold of this run has expired and a sweep has passed, then check
        that no pending reservation is left behind."""
        sessions = _sessions_like(f"bench {self.tag} %")
        latest = _latest_expiry(sessions)
        wait = max(0.0, latest + SWEEP_INTERVAL_SECONDS + 1.5)
        log(f"waiting {wait:.0f}s for the last holds to expire and be swept")
        time.sleep(wait)
        inv = check(sessions, topic_log=None, sweep_interval=SWEEP_INTERVAL_SECONDS, drain_timeout=0).as_dict()
        return {
            "sessions": len(sessions),
            "overdue_pending": inv["overdue_pending"],
            "max_overdue_seconds": inv["max_overdue_seconds"],
            "allowed_overdue_seconds": inv["allowed_overdue_seconds"],
            "still_pending": _pending(sessions),
        }

    # runs ------------------------------------------------------------------------------

    def run(
        self, *, skip_coldstart: bool = False, wait: bool = True, faults: list[str] | None = None
    ) -> dict[str, Any]:
        plan = self.plan
        if wait:
            wait_for_quiet_machine()
        if not skip_coldstart and not plan.only_chaos:
            log("cold start: import time and package size")
            self.results["coldstart"] = coldstart.measure(plan.import_runs)
            if plan.mode != "quick":
                self.results["coldstart"]["slowest_imports"] = coldstart.slowest_imports(20)
        log("services up and migrations")
        services_up()
        self.topic_log = TopicLog(self.bootstrap, self.topic)
        self.topic_log.refresh()
        stack = LocalRun(self.instances, self.port)
        stack.start()
        try:
            if plan.only_chaos:
                self.results["chaos"] = self.chaos(stack, faults)
            else:
                self.scenarios(stack, faults)
        finally:
            stack.stop()
        if self.topic_log is not None:
            self.topic_log.close()
        self.results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return self.results

    def scenarios(self, stack: LocalRun, faults: list[str] | None) -> None:
        plan = self.plan
        self.results["throughput"] = self.throughput(stack)
        self.results["hot_seat"] = self.hot_seat(stack, plan.hot_seat_runs)
        if plan.hot_seat_low_concurrency:
            self.results["hot_seat_low"] = self.hot_seat(
                stack,
                2,
                key="hot_seat low",
                concurrency=plan.hot_seat_low_concurrency,
                attempts=plan.hot_seat_low_attempts,
            )
        self.results["hot_section"] = self.hot_section(stack, plan.hot_section_runs)
        self.results["full_flow"] = self.full_flow(stack)
        self.results["edge"] = self.edge(stack)
        if plan.chaos or faults:
            self.results["chaos"] = self.chaos(stack, faults)
            self.results["final_expiry"] = self.final_expiry()


# small SQL helpers ---------------------------------------------------------------------


def _db():
    import psycopg

    return psycopg.connect(get_settings().database_url, autocommit=True, application_name="bench")


def _live_held(session_id: str) -> int:
    with _db() as conn:
        return conn.execute(
            """SELECT coalesce(sum(cardinality(seat_ids)), 0) FROM reservations
               WHERE session_id = %s AND status = 'pending' AND expires_at > now()""",
            (session_id,),
        ).fetchone()[0]


def _sessions_like(pattern: str) -> list[str]:
    with _db() as conn:
        return [r[0] for r in conn.execute("SELECT id::text FROM movie_sessions WHERE movie_name LIKE %s", (pattern,))]


def _latest_expiry(sessions: list[str]) -> float:
    with _db() as conn:
        row = conn.execute(
            """SELECT coalesce(extract(epoch FROM max(expires_at) - now()), 0)::float FROM reservations
               WHERE session_id = ANY(%s::uuid[]) AND status = 'pending'""",
            (sessions,),
        ).fetchone()
    return float(row[0])


def _pending(sessions: list[str]) -> int:
    with _db() as conn:
        return conn.execute(
            "SELECT count(*) FROM reservations WHERE session_id = ANY(%s::uuid[]) AND status = 'pending'", (sessions,)
        ).fetchone()[0]


def _pending_reservations(sessions: list[str]) -> list[str]:
    with _db() as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT id::text FROM reservations WHERE session_id = ANY(%s::uuid[]) AND status = 'pending'",
                (sessions,),
            )
        ]


def _unpublished(sessions: list[str]) -> int:
    with _db() as conn:
        return conn.execute(
            """SELECT count(*) FROM outbox WHERE message_key = ANY(%s)
               AND published_at IS NULL AND dead_at IS NULL""",
            (sessions,),
        ).fetchone()[0]


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["quick", "full", "smoke", "chaos"], nargs="?", default="quick")
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--skip-coldstart", action="store_true")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for running pytest processes")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "perf")
    parser.add_argument("--faults", default="", help="comma-separated chaos faults to run (any mode)")
    parser.add_argument("--write-report", action="store_true", help="write REPORT.md etc. in any mode")
    args = parser.parse_args(argv)

    plan = Plan(args.mode)
    bench = Bench(plan, args.instances, args.port)
    faults = [f for f in args.faults.split(",") if f]
    results = bench.run(skip_coldstart=args.skip_coldstart, wait=not args.no_wait, faults=faults)
    summary = report.summary(results)
    results["summary"] = summary
    print(report.table(results))
    if args.mode == "full" or args.write_report:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        report.plot(results, args.out / "throughput-latency.png")
        (args.out / "REPORT.md").write_text(report.markdown(results, args.out))
        log(f"wrote {args.out / 'REPORT.md'}, results.json and throughput-latency.png")
    else:
        runs_dir = PROJECT_ROOT / ".local" / "bench"
        runs_dir.mkdir(parents=True, exist_ok=True)
        (runs_dir / f"quick-{bench.tag}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
