"""The raw-SQL baseline: holds and sales straight through psycopg, from N threads at a time,
inside the app's own ``Database`` (same pool, session options and checkout check). No HTTP,
no Redis, no Kafka.

- ``RawSql.hold`` is the minimal hold the API is measured against: one transaction with one
  guarded ``UPDATE`` of the seats (only free ones, by the database clock), an ``INSERT`` of the
  reservation and an ``INSERT`` of its outbox row. It has none of the API's other guards (the
  held-seat cap, the session's start time, lock order, diagnosis of a refusal).
- ``RawSql.flow_hold`` and ``RawSql.sell`` run the real thing without the HTTP, Redis and Kafka
  around it: ``hold_seats`` through ``ReservationsRepository`` (one statement) and
  ``SaleService.confirm``, each in the app's ``UnitOfWork``.

Their outbox rows are marked published at once and never sent (there is no Kafka in the
baseline), so the invariant checker leaves these sessions out of the Kafka checks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from psycopg.types.json import Jsonb

from bench.load import Exhausted, SeatPool
from chalicelib.adapters.database import Database
from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository
from chalicelib.adapters.reservation_cache import ReservationCache
from chalicelib.adapters.reservations_repository import ReservationsRepository
from chalicelib.adapters.sales_repository import SalesRepository
from chalicelib.config import Settings, get_settings
from chalicelib.domain.events import BookingEvent, EventType
from chalicelib.domain.models import Reservation
from chalicelib.services.sales import SaleService
from chalicelib.services.unit_of_work import UnitOfWork


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


class _MarkPublished:
    """Where the app's dispatcher would send events to Kafka, the baseline marks them published."""

    def __init__(self, db: Database, outbox: OutboxRepository) -> None:
        self._db = db
        self._outbox = outbox

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if messages:
            with self._db.autocommit() as cur:
                self._outbox.mark_published(cur, [m.event_id for m in messages])


class _NoCache(ReservationCache):
    def __init__(self) -> None:
        pass

    def get(self, reservation_id: UUID) -> Reservation | None:
        return None

    def put(self, reservation: Reservation) -> None:
        pass


_MINIMAL_HOLD = """
WITH claimed AS (
    UPDATE seats st SET status = 'reserved', reservation_id = %(id)s,
           held_until = now() + make_interval(secs => %(ttl)s), updated_at = now()
    WHERE st.session_id = %(session_id)s AND st.id = ANY(%(seat_ids)s)
      AND (st.status = 'available' OR (st.status = 'reserved' AND st.held_until <= now()))
    RETURNING st.id, st.seat_number
)
INSERT INTO reservations (id, session_id, user_id, user_email, seat_ids, seat_numbers, unit_price, expires_at)
SELECT %(id)s, %(session_id)s, %(user_id)s, %(user_email)s, array_agg(id), array_agg(seat_number), 25.00,
       now() + make_interval(secs => %(ttl)s)
FROM claimed HAVING count(*) = cardinality(%(seat_ids)s)
RETURNING id
"""

_OUTBOX_ROW = """
INSERT INTO outbox (event_id, event_type, topic, message_key, payload, published_at)
VALUES (%s, %s, %s, %s, %s, now())
"""


class RawSql:
    def __init__(self, concurrency: int, settings: Settings | None = None) -> None:
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
        self.topic = s.booking_topic
        self.reservations = ReservationsRepository()
        outbox = OutboxRepository(self.topic)
        self.uow = UnitOfWork(self.db, outbox, _MarkPublished(self.db, outbox))  # type: ignore[arg-type]
        self.sales = SaleService(self.uow, self.reservations, SalesRepository(), _NoCache())

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RawSql:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def hold(self, session_id: str, seat_ids: Sequence[str], user_id: str) -> UUID:
        """The minimal hold: one guarded update, the reservation and its outbox row."""
        reservation_id = uuid.uuid4()
        seats = [UUID(s) for s in seat_ids]
        event = BookingEvent(EventType.RESERVATION_CREATED, UUID(session_id), reservation_id, tuple(seats), user_id)
        with self.db.transaction() as cur:
            cur.execute(
                _MINIMAL_HOLD,
                {
                    "id": reservation_id,
                    "session_id": session_id,
                    "seat_ids": seats,
                    "user_id": user_id,
                    "user_email": f"{user_id}@bench.example",
                    "ttl": self.settings.reservation_ttl_seconds,
                },
            )
            if cur.fetchone() is None:
                raise ClaimFailed("seat taken")
            cur.execute(_OUTBOX_ROW, (event.event_id, event.type.value, self.topic, event.key, Jsonb(event.envelope())))
        return reservation_id

    def flow_hold(self, session_id: str, seat_ids: Sequence[str], user_id: str) -> UUID:
        """The API's hold without HTTP, Redis and Kafka: ``hold_seats`` in a unit of work."""
        reservation_id = uuid.uuid4()
        seats = tuple(sorted(UUID(s) for s in seat_ids))
        created = BookingEvent(EventType.RESERVATION_CREATED, UUID(session_id), reservation_id, seats, user_id)
        with self.uow.one_statement(created) as tx:
            decided = self.reservations.hold(
                tx.cursor,
                reservation_id=reservation_id,
                session_id=UUID(session_id),
                seat_ids=seats,
                user_id=user_id,
                user_email=f"{user_id}@bench.example",
                ttl_seconds=self.settings.reservation_ttl_seconds,
                max_held_seats=self.settings.max_held_seats_per_user,
                outbox=tx.outbox,
            )
            tx.wrote(decided.messages)
            reservation = decided.reservation
            if reservation is None:
                raise ClaimFailed(decided.outcome)
        return reservation.id

    def sell(self, reservation_id: UUID) -> None:
        self.sales.confirm(reservation_id)


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
            reservation_id = raw.flow_hold(session_id, seats, f"rawflow-{tag}-{concurrency}-{w}-{i}")
        except Exception:
            timings.fail("hold")
            return True
        held = time.perf_counter()
        timings.record("hold", held - started)
        try:
            raw.sell(reservation_id)
        except Exception:
            timings.fail("pay")
            return True
        done = time.perf_counter()
        timings.record("pay", done - held)
        timings.record("flow", done - started)
        return True

    return run_threads(concurrency, duration, step), timings
