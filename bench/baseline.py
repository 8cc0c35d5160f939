"""The raw-SQL baseline: the exact statements the API runs for a hold and for a sale,
called through the app's own repository classes inside the app's own ``Database`` (same
pool, session options, checkout check and transaction boundaries), from N threads at a
time. No HTTP, no Redis, no Kafka.

A hold, as ``ReservationService.hold`` runs it when Kafka is up:
  transaction: ``lock_holder`` (advisory lock + held-seat count), ``claim_seats``,
               ``insert``, ``OutboxRepository.add``                -> commit
  then, autocommit: ``OutboxRepository.mark_published`` (after the publish)
A sale, as ``SaleService.confirm`` runs it:
  transaction: ``end_pending``, ``sell_seats``, ``SalesRepository.insert`` (insert,
               executemany of the seats, re-read), ``OutboxRepository.add`` -> commit
  then, autocommit: ``OutboxRepository.mark_published``

The outbox rows written here are marked published but never sent (there is no Kafka in the
baseline), so the invariant checker leaves these sessions out of the Kafka checks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from bench.load import Exhausted, SeatPool
from chalicelib.adapters.database import Database
from chalicelib.adapters.outbox_repository import OutboxRepository
from chalicelib.adapters.reservations_repository import ReservationsRepository
from chalicelib.adapters.sales_repository import SalesRepository
from chalicelib.bootstrap import booking_topic
from chalicelib.config import Settings, get_settings
from chalicelib.domain.events import BookingEvent, EventType
from chalicelib.domain.models import Reservation, ReservationStatus
from chalicelib.domain.money import sale_amount


class ClaimFailed(Exception):
    pass


@dataclass
class Timings:
    """Latencies (seconds) of successful operations, and failures by name."""

    ok: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float) -> None:
        with self.lock:
            self.ok.setdefault(op, []).append(seconds)

    def fail(self, op: str) -> None:
        with self.lock:
            self.failed[op] = self.failed.get(op, 0) + 1


class RawSql:
    def __init__(
        self,
        concurrency: int,
        settings: Settings | None = None,
        *,
        publish_step: bool = True,
    ) -> None:
        self.settings = settings or get_settings()
        s = self.settings
        self.db = Database(
            s.database_url,
            min_size=concurrency,
            max_size=concurrency,
            statement_timeout_ms=s.statement_timeout_ms,
            lock_timeout_ms=s.lock_timeout_ms,
        )
        self.db.wait_ready(30)  # every connection open before the clock starts
        self.reservations = ReservationsRepository()
        self.sales = SalesRepository()
        self.outbox = OutboxRepository(booking_topic(s))
        self.publish_step = publish_step

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RawSql:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _mark_published(self, event_ids: list[UUID]) -> None:
        if not self.publish_step:
            return
        with self.db.autocommit() as cur:
            self.outbox.mark_published(cur, event_ids)

    def hold(self, session_id: str, seat_ids: Sequence[str], user_id: str) -> Reservation:
        seats = sorted(UUID(s) for s in seat_ids)
        sid = UUID(session_id)
        reservation_id = uuid.uuid4()
        ttl = self.settings.reservation_ttl_seconds
        with self.db.transaction() as cur:
            held = self.reservations.lock_holder(cur, user_id)
            if held + len(seats) > self.settings.max_held_seats_per_user:
                raise ClaimFailed("held-seat cap")
            claimed = self.reservations.claim_seats(
                cur, reservation_id=reservation_id, session_id=sid, seat_ids=seats, ttl_seconds=ttl
            )
            if len(claimed) != len(seats):
                self.reservations.diagnose_failed_claim(cur, sid, seats)
                raise ClaimFailed("seat taken")
            claimed.sort(key=lambda seat: seat["position"])
            reservation = self.reservations.insert(
                cur,
                reservation_id=reservation_id,
                session_id=sid,
                seat_ids=[seat["id"] for seat in claimed],
                seat_numbers=[seat["seat_number"] for seat in claimed],
                user_id=user_id,
                user_email=f"{user_id}@bench.example",
                ttl_seconds=ttl,
            )
            messages = self.outbox.add(
                cur,
                [
                    BookingEvent(
                        EventType.RESERVATION_CREATED,
                        reservation.session_id,
                        reservation.id,
                        reservation.seat_ids,
                        reservation.user_id,
                    )
                ],
            )
        self._mark_published([m.event_id for m in messages])
        return reservation

    def sell(self, reservation_id: UUID) -> None:
        with self.db.transaction() as cur:
            confirmed = self.reservations.end_pending(cur, reservation_id, ReservationStatus.CONFIRMED, None)
            if confirmed is None:
                self.reservations.get(cur, reservation_id, None)
                raise ClaimFailed("not pending")
            sold = self.reservations.sell_seats(cur, reservation_id)
            if len(sold) != len(confirmed.seat_ids):
                raise ClaimFailed("lapsed")
            amount = sale_amount(confirmed.unit_price, len(sold))
            sale = self.sales.insert(cur, confirmed, sorted(sold, key=lambda s: s["position"]), amount)
            messages = self.outbox.add(
                cur,
                [
                    BookingEvent(
                        EventType.SALE_CONFIRMED,
                        sale.session_id,
                        sale.reservation_id,
                        sale.seat_ids,
                        sale.user_id,
                        amount=sale.amount,
                        sale_id=sale.id,
                    )
                ],
            )
        self._mark_published([m.event_id for m in messages])


def run_threads(concurrency: int, duration: float, step: Callable[[int, int], bool]) -> float:
    """``concurrency`` threads call ``step(worker, i)`` until ``duration`` is up or it
    returns False; returns the elapsed wall time."""
    start = threading.Event()
    deadline = [0.0]

    def worker(w: int) -> None:
        start.wait()
        i = 0
        while time.perf_counter() < deadline[0]:
            if not step(w, i):
                return
            i += 1

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    deadline[0] = started + duration
    start.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def holds(raw: RawSql, pool: SeatPool, concurrency: int, duration: float, tag: str) -> tuple[float, Timings]:
    """Closed-loop holds of one fresh seat each, distinct users. Returns (elapsed, timings)."""
    timings = Timings()
    lock = threading.Lock()

    def step(w: int, i: int) -> bool:
        with lock:
            try:
                session_id, seats = pool.take(1)
            except Exhausted:
                return False
        started = time.perf_counter()
        try:
            raw.hold(session_id, seats, f"raw-{tag}-{concurrency}-{w}-{i}")
        except Exception:
            timings.fail("hold")
            return True
        timings.record("hold", time.perf_counter() - started)
        return True

    return run_threads(concurrency, duration, step), timings


def flows(
    raw: RawSql, pool: SeatPool, concurrency: int, duration: float, tag: str, seats_per_hold: Callable[[int], int]
) -> tuple[float, Timings]:
    """Hold then sell, closed loop."""
    timings = Timings()
    lock = threading.Lock()

    def step(w: int, i: int) -> bool:
        with lock:
            try:
                session_id, seats = pool.take(seats_per_hold(w * 100003 + i))
            except Exhausted:
                return False
        started = time.perf_counter()
        try:
            reservation = raw.hold(session_id, seats, f"rawflow-{tag}-{concurrency}-{w}-{i}")
        except Exception:
            timings.fail("hold")
            return True
        held = time.perf_counter()
        timings.record("hold", held - started)
        try:
            raw.sell(reservation.id)
        except Exception:
            timings.fail("pay")
            return True
        done = time.perf_counter()
        timings.record("pay", done - held)
        timings.record("flow", done - started)
        return True

    return run_threads(concurrency, duration, step), timings
