"""Fault injection during load (``make bench-full``).

A chaos run drives two loads at once against the 4 instances, then injects one fault:

- a closed-loop full flow (hold 1-2 fresh seats, then pay) by ``concurrency`` clients;
- hot-seat bursts: every ~0.7 s, 16 users try to hold the same fresh seat at the same
  instant (spread over the instances); the winner pays. Two winners would be a double hold.

Faults (each a blocking function run in a thread while the load goes on):

- ``kill9``: SIGKILL one API instance; ``infra.run_local`` starts a new one.
- ``redis-flush``: FLUSHDB of the app's Redis database (db 0) while a burst is in flight:
  the seat gates, rate-limit counters and idempotency records vanish. (FLUSHDB rather than
  FLUSHALL so that other people's test database, Redis db 15, is left alone; for the app
  it is the same thing.)
- ``redis-restart``: ``redis-cli shutdown nosave``, 2 s down, ``infra.services up``.
- ``sigstop``: a hold is sent to instance 1 alone; as soon as its seat gate (a Redis lock)
  exists, that process is SIGSTOPped for 6 s, longer than the gate's 5 s TTL; after 5.5 s
  16 other users try the same seat through the other instances; then SIGCONT. Exactly one
  of them all may win.
- ``kafka-stop``: SIGKILL the broker (``.local/kafka/kafka.pid``), 10 s down, then
  ``infra.services up`` restarts it.
- ``pg-terminate``: ``pg_terminate_backend`` on the PostgreSQL connections of our own 4
  API instances (found from their sockets; never anyone else's, nor the checker's), twice,
  3 s apart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import redis

from bench.load import Exhausted, LoadDriver, Recorder, SeatPool, latency_ms, status_counts
from bench.scenarios import one_or_two
from bench.stack import PROJECT_ROOT, PYTHON, LocalRun, postgres_client_ports
from chalicelib.config import get_settings, local_services
from tests.api_client import hold_body

BURST_SIZE = 16
BURST_PAUSE = 0.7
GATE_TTL_SECONDS = 5.0  # SEAT_GATE_TTL_MS default
STOP_SECONDS = 6.0


@dataclass
class ChaosContext:
    stack: LocalRun
    session_id: str
    hot_seats: Iterator[str]
    burst_in_flight: threading.Event = field(default_factory=threading.Event)
    seat_lock: threading.Lock = field(default_factory=threading.Lock)
    extra_bursts: list[list[str]] = field(default_factory=list)  # winners of bursts a fault ran itself

    def take_hot_seat(self) -> str | None:
        with self.seat_lock:
            return next(self.hot_seats, None)


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    action: Callable[[ChaosContext], dict[str, Any]]


def _services_up() -> float:
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-m", "infra.services", "up"],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2)


def kill9(ctx: ChaosContext) -> dict[str, Any]:
    index = 1
    pid = ctx.stack.instance_pid(index)
    if pid is None:
        return {"error": "instance not found"}
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    back = None
    while time.monotonic() - started < 60:
        new_pid = ctx.stack.instance_pid(index)
        if new_pid and new_pid != pid:
            try:
                with ctx.stack.instance_client(index, timeout=1) as client:
                    if client.get("/sessions?limit=1").status == 200:
                        back = time.monotonic() - started
                        break
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    return {"killed_pid": pid, "instance": index, "serving_again_after_s": round(back, 1) if back else None}


def redis_flush(ctx: ChaosContext) -> dict[str, Any]:
    ctx.burst_in_flight.wait(5)
    time.sleep(0.003)
    client = _redis()
    keys = client.dbsize()
    gates = sum(1 for _ in client.scan_iter("lock:seat:*", count=1000))
    client.flushdb()
    return {"keys_flushed": keys, "seat_gates_flushed": gates, "during_burst": ctx.burst_in_flight.is_set()}


def redis_restart(ctx: ChaosContext) -> dict[str, Any]:
    started = time.monotonic()
    subprocess.run(
        ["redis-cli", "-p", str(local_services().redis_port), "shutdown", "nosave"],
        check=False,
        capture_output=True,
    )
    time.sleep(2)
    up = _services_up()
    return {"down_for_s": round(time.monotonic() - started, 1), "services_up_s": round(up, 1)}


def kafka_stop(ctx: ChaosContext) -> dict[str, Any]:
    pidfile = PROJECT_ROOT / ".local" / "kafka" / "kafka.pid"
    pid = int(pidfile.read_text().strip())
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    time.sleep(10)
    up = _services_up()
    return {"killed_pid": pid, "down_for_s": round(time.monotonic() - started, 1), "restart_s": round(up, 1)}


def pg_terminate(ctx: ChaosContext) -> dict[str, Any]:
    terminated = []
    url = get_settings().database_url
    for round_ in range(2):
        if round_:
            time.sleep(3)
        ports = sorted(postgres_client_ports(ctx.stack.instance_pids()))
        with psycopg.connect(url, autocommit=True, application_name="psql-bench-chaos") as conn:
            rows = conn.execute(
                """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND client_addr = '127.0.0.1' AND client_port = ANY(%s)""",
                (ports,),
            ).fetchall()
        terminated.append(sum(1 for (ok,) in rows if ok))
    return {"terminated_backends": terminated}


def sigstop(ctx: ChaosContext) -> dict[str, Any]:
    """Stop the process that holds a seat gate for longer than the gate's TTL."""
    index = 1
    client = _redis()
    others = [i for i in range(ctx.stack.instances) if i != index]
    for _try in range(8):
        seat = ctx.take_hot_seat()
        if seat is None:
            return {"error": "no hot seat left"}
        key = f"lock:seat:{seat}"
        pid = ctx.stack.instance_pid(index)
        if pid is None:
            return {"error": "instance not found"}
        outcome: dict[str, Any] = {}

        def victim(seat: str = seat, outcome: dict[str, Any] = outcome) -> None:
            try:
                with ctx.stack.instance_client(index) as instance:
                    status, body, _ = instance.hold(ctx.session_id, [seat], f"stopped-{seat[:8]}")
                outcome["status"] = status
                if status == 201:
                    outcome["id"] = body["id"]
            except httpx.HTTPError as exc:
                outcome["status"] = f"error {type(exc).__name__}"

        thread = threading.Thread(target=victim, daemon=True)
        thread.start()
        deadline = time.monotonic() + 2
        stopped_at = None
        while time.monotonic() < deadline and thread.is_alive():
            if client.exists(key):
                os.kill(pid, signal.SIGSTOP)
                stopped_at = time.monotonic()
                break
        if stopped_at is None:
            thread.join(5)
            continue  # the hold finished before we saw its gate; try another seat
        try:
            time.sleep(GATE_TTL_SECONDS + 0.5)
            gate_left = bool(client.exists(key))

            def contender(n: int, seat: str = seat) -> tuple[int, str | None]:
                try:
                    with ctx.stack.instance_client(others[n % len(others)]) as instance:
                        status, body, _ = instance.hold(ctx.session_id, [seat], f"contender-{n}")
                except httpx.HTTPError:
                    return 0, None
                return status, body["id"] if status == 201 else None

            pool = ThreadPoolExecutor(BURST_SIZE)
            futures = [pool.submit(contender, n) for n in range(BURST_SIZE)]
            time.sleep(max(0.0, STOP_SECONDS - (time.monotonic() - stopped_at)))
        finally:
            os.kill(pid, signal.SIGCONT)
        stopped_for = time.monotonic() - stopped_at
        results = [f.result() for f in futures]
        pool.shutdown()
        thread.join(30)
        winners = [rid for _, rid in results if rid] + ([outcome["id"]] if outcome.get("id") else [])
        ctx.extra_bursts.append(winners)
        return {
            "instance": index,
            "stopped_for_s": round(stopped_for, 2),
            "gate_still_there_after_ttl": gate_left,
            "stopped_request_status": outcome.get("status"),
            "contender_statuses": status_counts_plain([s for s, _ in results]),
            "winners": len(winners),
        }
    return {"error": "never caught a hold holding its gate"}


def status_counts_plain(statuses: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return counts


FAULTS = [
    Fault("kill9", "kill -9 of API instance 2 (run_local restarts it)", kill9),
    Fault("redis-flush", "FLUSHDB of the app's Redis db while a hot-seat burst is in flight", redis_flush),
    Fault("redis-restart", "Redis shutdown nosave, 2 s down, restarted by infra.services up", redis_restart),
    Fault("sigstop", "SIGSTOP for 6 s of the instance holding a seat gate (TTL 5 s), then SIGCONT", sigstop),
    Fault(
        "pg-terminate",
        "pg_terminate_backend of every PostgreSQL connection of the 4 API instances, twice",
        pg_terminate,
    ),
    # Last: a broker crash can leave the API's and the relay's Kafka producers unusable (see
    # docs/perf/REPORT.md), which would spoil any fault measured after it on the same stack.
    Fault("kafka-stop", "Kafka broker killed, 10 s down, restarted by infra.services up", kafka_stop),
]


async def chaos_run(
    api: LoadDriver,
    stack: LocalRun,
    fault: Fault,
    tag: str,
    *,
    concurrency: int = 12,
    lead: float = 4.0,
    tail: float = 4.0,
) -> dict[str, Any]:
    """Load + one fault. Returns the run's numbers; the caller checks the invariants."""
    name = f"bench {tag} chaos-{fault.name}"
    flow_sessions = await api.create_sessions(name, 4, 500)
    hot_session, hot_seats = await api.create_session(f"{name} hot", 200)
    ctx = ChaosContext(stack, hot_session, iter(hot_seats))
    pool = SeatPool(flow_sessions, seed=hash(fault.name) & 0xFFFF)
    seats_for = one_or_two(3)
    recorder = Recorder()
    stop = asyncio.Event()
    bursts: list[list[str]] = []
    await api.warm(concurrency // api.instances + 2)

    async def flow_worker(w: int) -> None:
        for i in range(10**9):
            if stop.is_set():
                return
            try:
                session_id, seats = pool.take(seats_for(w * 7919 + i))
            except Exhausted:
                return
            held = await api.timed(
                recorder, "hold", w, "POST", "/reservations", hold_body(session_id, seats, f"cf-{tag}-{w}-{i}")
            )
            if held.status == 201:
                await api.timed(recorder, "pay", w, "POST", "/sales", {"reservationId": held.body["id"]}, parse=False)
            elif held.status in (0, 503):
                await asyncio.sleep(0.05)  # an instance or a dependency is down: do not spin

    async def burst_worker() -> None:
        n = 0
        while not stop.is_set():
            seat = ctx.take_hot_seat()
            if seat is None:
                return
            ctx.burst_in_flight.set()
            replies = await asyncio.gather(
                *(
                    api.timed(
                        recorder,
                        "burst",
                        n * BURST_SIZE + k,
                        "POST",
                        "/reservations",
                        hold_body(hot_session, [seat], f"cb-{tag}-{n}-{k}"),
                    )
                    for k in range(BURST_SIZE)
                )
            )
            ctx.burst_in_flight.clear()
            winners = [r.body["id"] for r in replies if r.status == 201]
            bursts.append(winners)
            for k, reservation_id in enumerate(winners):
                await api.timed(recorder, "pay", k, "POST", "/sales", {"reservationId": reservation_id}, parse=False)
            n += 1
            await asyncio.sleep(BURST_PAUSE)

    async def inject() -> dict[str, Any]:
        await asyncio.sleep(lead)
        started = time.monotonic()
        info = await asyncio.to_thread(fault.action, ctx)
        info["fault_took_s"] = round(time.monotonic() - started, 1)
        await asyncio.sleep(tail)
        stop.set()
        return info

    started = time.perf_counter()
    workers = [asyncio.create_task(flow_worker(w)) for w in range(concurrency)]
    burster = asyncio.create_task(burst_worker())
    info = await inject()
    await asyncio.gather(*workers, burster)
    elapsed = time.perf_counter() - started
    all_bursts = bursts + ctx.extra_bursts
    pays = recorder.of("pay", 201)
    return {
        "fault": fault.name,
        "summary": fault.summary,
        "fault_info": info,
        "sessions": [s for s, _ in flow_sessions] + [hot_session],
        "elapsed_s": elapsed,
        "concurrency": concurrency,
        "sales": len(pays),
        "sales_per_s": len(pays) / elapsed,
        "hold_statuses": status_counts(recorder.of("hold")),
        "pay_statuses": status_counts(recorder.of("pay")),
        "burst_statuses": status_counts(recorder.of("burst")),
        "hold_latency_ms": latency_ms(recorder.of("hold", 201)),
        "hot_bursts": len(all_bursts),
        "hot_bursts_one_winner": sum(1 for w in all_bursts if len(w) == 1),
        "hot_bursts_no_winner": sum(1 for w in all_bursts if not w),
        "hot_bursts_double_hold": sum(1 for w in all_bursts if len(w) > 1),
    }
