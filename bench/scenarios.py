"""The HTTP scenarios. Each returns a plain dict of results (JSON-serialisable) and the
ids of the sessions it created (for the invariant checker)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from typing import Any

from bench.load import Exhausted, LoadDriver, Recorder, SeatPool, closed_loop, latency_ms, percentile, status_counts
from tests.api_client import hold_body


def one_or_two(seed: int) -> Callable[[int], int]:
    """Deterministic 'wants 1 or 2 seats' per request index."""
    rng = random.Random(seed)
    table = [rng.choice((1, 2)) for _ in range(4096)]
    return lambda i: table[i % len(table)]


async def hot_seat(api: LoadDriver, tag: str, *, attempts: int = 2000, concurrency: int = 32) -> dict[str, Any]:
    """``attempts`` holds of ONE seat by distinct users, ``concurrency`` at a time spread over
    the instances; the first ``concurrency`` leave together. Exactly one may win."""
    session_id, seats = await api.create_session(f"bench {tag} hot-seat", 16)
    seat = seats[0]
    recorder = Recorder()
    counter = itertools.count()
    winners: list[str] = []
    await api.warm(concurrency // api.instances + 1)

    async def step(w: int, _i: int) -> bool:
        n = next(counter)
        if n >= attempts:
            return False
        reply = await api.timed(
            recorder, "hold", w, "POST", "/reservations", hold_body(session_id, [seat], f"hs-{tag}-{n}")
        )
        if reply.status == 201:
            winners.append(reply.body["id"])
        return True

    elapsed = await closed_loop(concurrency, 600, step)
    samples = recorder.of("hold")
    return {
        "session_id": session_id,
        "sessions": [session_id],
        "attempts": len(samples),
        "concurrency": concurrency,
        "successes": len(winners),
        "statuses": status_counts(samples),
        "elapsed_s": elapsed,
        "attempts_per_s": len(samples) / elapsed,
        "latency_409_ms": latency_ms(recorder.of("hold", 409)),
        "latency_all_ms": latency_ms(samples),
        "latencies_409": [s.latency for s in recorder.of("hold", 409)],
    }


async def hot_section(
    api: LoadDriver, tag: str, *, seats: int = 100, users: int = 5000, concurrency: int = 32, seed: int = 11
) -> dict[str, Any]:
    """``users`` users each want 1 or 2 seats (adjacent when they can) of a ``seats``-seat room.
    A user picks from its view of the free seats (refreshed by GET /sessions/{id}/seats at
    most every 100 ms), retries up to 6 times after a 409, and gives up when the view has too
    few seats for them. The room must end with exactly ``seats`` seats held, none twice."""
    session_id, seat_ids = await api.create_session(f"bench {tag} hot-section", seats)
    position = {seat: index for index, seat in enumerate(seat_ids)}
    rng = random.Random(seed)
    wants = [rng.choice((1, 2)) for _ in range(users)]
    free: set[str] = set(seat_ids)
    suspect: set[str] = set()
    state = {"sold_out": False, "refreshed": 0.0, "refreshes": 0}
    refresh_lock = asyncio.Lock()
    held_by: dict[str, list[str]] = {}  # seat -> reservation ids that got it (must be one each)
    recorder = Recorder()
    users_iter = iter(range(users))
    served = gave_up = 0
    await api.warm(concurrency // api.instances + 1)

    async def refresh(instance: int, newer_than: float) -> None:
        """Make the view newer than ``newer_than`` (one GET per 100 ms at most, for everyone):
        nobody gives up on a view taken before their own last 409."""
        async with refresh_lock:
            if state["refreshed"] > newer_than:
                return
            wait = 0.1 - (time.perf_counter() - state["refreshed"])
            if wait > 0:
                await asyncio.sleep(wait)
            started = time.perf_counter()
            reply = await api.call(instance, "GET", f"/sessions/{session_id}/seats")
            recorder.add("seats", reply, started, instance)
            if reply.status != 200:
                return
            free.clear()
            free.update(s["id"] for s in reply.body if s["status"] == "available")
            suspect.clear()
            state["refreshed"] = started
            state["refreshes"] += 1
            if not free:
                state["sold_out"] = True

    def pick(count: int) -> list[str] | None:
        candidates = sorted(free - suspect, key=position.__getitem__)
        if len(candidates) < count:
            return None
        if count == 1:
            return [rng.choice(candidates)]
        pairs = [
            (a, b)
            for a, b in itertools.pairwise(candidates)
            if position[b] == position[a] + 1 and position[a] // 10 == position[b] // 10
        ]
        if pairs:
            return list(rng.choice(pairs))
        return rng.sample(candidates, count)

    async def step(w: int, _i: int) -> bool:
        nonlocal served, gave_up
        user = next(users_iter, None)
        if user is None:
            return False
        count = wants[user]
        last_try = time.perf_counter()
        for _attempt in range(7):
            if state["sold_out"]:
                break
            choice = pick(count)
            if choice is None:
                await refresh(w, newer_than=last_try)
                choice = pick(count)
                if choice is None:
                    break
            reply = await api.timed(
                recorder, "hold", w, "POST", "/reservations", hold_body(session_id, choice, f"sec-{tag}-{user}")
            )
            if reply.status == 201:
                for seat in reply.body["seatIds"]:
                    held_by.setdefault(seat, []).append(reply.body["id"])
                    free.discard(seat)
                served += 1
                return True
            suspect.update(choice)
            last_try = time.perf_counter()
        gave_up += 1
        return True

    elapsed = await closed_loop(concurrency, 600, step)
    holds = recorder.of("hold")
    seats_held = sum(len(v) for v in held_by.values())
    return {
        "session_id": session_id,
        "sessions": [session_id],
        "seats": seats,
        "users": users,
        "concurrency": concurrency,
        "users_served": served,
        "users_gave_up": gave_up,
        "seats_held": seats_held,
        "distinct_seats_held": len(held_by),
        "overlapping_seats": sum(1 for v in held_by.values() if len(v) > 1),
        "hold_requests": len(holds),
        "statuses": status_counts(holds),
        "seat_refreshes": state["refreshes"],
        "elapsed_s": elapsed,
        "latency_201_ms": latency_ms(recorder.of("hold", 201)),
        "latency_409_ms": latency_ms(recorder.of("hold", 409)),
    }


async def uniform_holds(
    api: LoadDriver, pool: SeatPool, tag: str, *, concurrency: int, duration: float
) -> dict[str, Any]:
    """Closed-loop holds of one fresh seat each (sessions rotate), distinct users."""
    recorder = Recorder()
    await api.warm(concurrency // api.instances + 1)

    async def step(w: int, i: int) -> bool:
        try:
            session_id, seats = pool.take(1)
        except Exhausted:
            return False
        await api.timed(
            recorder,
            "hold",
            w,
            "POST",
            "/reservations",
            hold_body(session_id, seats, f"u-{tag}-{concurrency}-{w}-{i}"),
            parse=False,
        )
        return True

    elapsed = await closed_loop(concurrency, duration, step)
    holds = recorder.of("hold")
    ok = recorder.of("hold", 201)
    return {
        "concurrency": concurrency,
        "elapsed_s": elapsed,
        "requests": len(holds),
        "holds": len(ok),
        "holds_per_s": len(ok) / elapsed,
        "statuses": status_counts(holds),
        "latency_ms": latency_ms(ok),
        "per_instance": [sum(1 for s in ok if s.instance == i) for i in range(api.instances)],
        "pool_exhausted": pool.remaining == 0,
    }


async def full_flow(
    api: LoadDriver, pool: SeatPool, tag: str, *, concurrency: int, duration: float, seed: int = 5
) -> dict[str, Any]:
    """Closed loop of hold (1 or 2 fresh seats) then pay (POST /sales)."""
    recorder = Recorder()
    seats_for = one_or_two(seed)
    flows: list[float] = []
    await api.warm(concurrency // api.instances + 1)

    async def step(w: int, i: int) -> bool:
        try:
            session_id, seats = pool.take(seats_for(w * 7919 + i))
        except Exhausted:
            return False
        started = time.perf_counter()
        held = await api.timed(
            recorder,
            "hold",
            w,
            "POST",
            "/reservations",
            hold_body(session_id, seats, f"ff-{tag}-{concurrency}-{w}-{i}"),
        )
        if held.status != 201:
            return True
        paid = await api.timed(recorder, "pay", w, "POST", "/sales", {"reservationId": held.body["id"]}, parse=False)
        if paid.status == 201:
            flows.append(time.perf_counter() - started)
        return True

    elapsed = await closed_loop(concurrency, duration, step)
    pays = recorder.of("pay", 201)
    return {
        "concurrency": concurrency,
        "elapsed_s": elapsed,
        "sales": len(pays),
        "sales_per_s": len(pays) / elapsed,
        "hold_statuses": status_counts(recorder.of("hold")),
        "pay_statuses": status_counts(recorder.of("pay")),
        "hold_latency_ms": latency_ms(recorder.of("hold", 201)),
        "pay_latency_ms": latency_ms(pays),
        "flow_latency_ms": {
            "p50": percentile([f * 1000 for f in flows], 50),
            "p99": percentile([f * 1000 for f in flows], 99),
            "n": len(flows),
        },
    }


async def cancel_all(api: LoadDriver, reservation_ids: list[str], *, concurrency: int = 8) -> dict[str, int]:
    """DELETE each reservation (spread over the instances); returns the statuses seen."""
    remaining = list(reservation_ids)
    statuses: dict[str, int] = {}

    async def worker(w: int) -> None:
        while remaining:
            reply = await api.call(w, "DELETE", f"/reservations/{remaining.pop()}", parse=False)
            statuses[str(reply.status)] = statuses.get(str(reply.status), 0) + 1

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return statuses
