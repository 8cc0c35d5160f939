"""The fast path out of the outbox: events go to Kafka right after their transaction commits,
and nobody waits for the broker.

- ``publish`` hands a committed transaction's messages to the producer and returns.
- A background thread serves the producer's delivery reports, writes the published marks of
  whatever the broker acknowledged (one UPDATE per ``mark_interval_seconds``), and sends the
  messages that were waiting for older events of their session.
- ``settle`` waits for all of it (``close`` at shutdown, and tests). A Lambda invocation does
  not call it: the response would wait for the broker. What a frozen environment had not sent
  yet is the relay's.

Whatever this misses (Kafka down, the process killed after commit, a mark not yet written)
stays unpublished in the outbox and the relay sends it later, so no event is lost; a message
sent by both paths carries the same event id and consumers drop the second copy.

Order per session: a message is sent only once every older unpublished event of its session
(``waits_for``, read when it was written) is published, or is one this process has already
handed to its producer, which keeps them in order (same partition, idempotent producer). Until
then it waits here, behind its session's earlier messages, for at most ``max_wait_seconds``;
then it and the rest of its session's waiting messages are left to the relay, which
publishes in commit order. Settings keep that wait plus the publish timeout shorter than the
relay's grace, so the relay never sends a message this may still send.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from chalicelib.adapters.outbox_repository import WAITS_FOR_LIMIT
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository


@dataclass(frozen=True, slots=True)
class _Waiting:
    message: OutboxMessage
    since: float


class EventDispatcher:
    def __init__(
        self,
        db: Database,
        outbox: OutboxRepository,
        publisher: EventPublisher,
        *,
        max_wait_seconds: float = 0.5,
        mark_interval_seconds: float = 0.02,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._publisher = publisher
        self._max_wait = max_wait_seconds
        self._mark_interval = mark_interval_seconds
        self._lock = threading.Lock()
        self._sent: set[UUID] = set()  # handed to the producer, published mark not yet written
        self._delivered: list[UUID] = []
        # Delivery outcomes arrive on whichever thread serves the producer, possibly while it
        # holds the producer's lock; taking this dispatcher's lock there could deadlock with a
        # request sending under it, so they queue here and are applied under the lock later.
        self._outcomes: deque[tuple[UUID, bool]] = deque()
        self._waiting: list[_Waiting] = []  # in commit order
        self._worker: threading.Thread | None = None
        self._closed = threading.Event()

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages or self._publisher.recently_failed:
            return
        with self._lock:
            self._apply_outcomes()
            waiting_keys = {w.message.key for w in self._waiting}
            now = time.monotonic()
            sendable = []
            for message in messages:
                if len(message.waits_for) > WAITS_FOR_LIMIT:
                    waiting_keys.add(message.key)  # too far behind: the relay's, with what follows it
                elif message.key in waiting_keys or not self._sent.issuperset(message.waits_for):
                    self._waiting.append(_Waiting(message, now))
                    waiting_keys.add(message.key)
                else:
                    sendable.append(message)
            self._send(sendable)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="event-dispatch", daemon=True)
                self._worker.start()

    def _send(self, messages: list[OutboxMessage]) -> None:
        """Hand messages to the producer (caller holds the lock)."""
        if not messages:
            return
        try:
            taken = self._publisher.send(messages, self._record_delivery)
        except Exception:  # the booking is committed; publishing is the relay's job from here
            logger.exception("fast-path publish failed; the relay will retry")
            return
        self._sent.update(taken)

    def _record_delivery(self, event_id: UUID, delivered: bool) -> None:
        self._outcomes.append((event_id, delivered))

    def _apply_outcomes(self) -> None:
        """Apply the queued delivery outcomes (caller holds the lock)."""
        while self._outcomes:
            event_id, delivered = self._outcomes.popleft()
            if delivered:
                self._delivered.append(event_id)
            else:  # the relay sends it; nothing may be sent after it on the fast path now
                self._sent.discard(event_id)

    def _serve(self) -> None:
        while not self._closed.is_set():
            started = time.monotonic()
            try:
                self._publisher.poll(self._mark_interval)
                self._write_marks()
                self._send_waiting()
            except Exception:  # a mark not written only means the relay sends that event again
                logger.exception("the fast path's background work failed")
            self._closed.wait(max(0.0, self._mark_interval - (time.monotonic() - started)))

    def _write_marks(self) -> None:
        with self._lock:
            self._apply_outcomes()
            delivered, self._delivered = self._delivered, []
        if not delivered:
            return
        with self._db.autocommit() as cur:
            self._outbox.mark_published(cur, delivered)
        with self._lock:
            self._sent.difference_update(delivered)

    def _send_waiting(self) -> None:
        with self._lock:
            self._apply_outcomes()
            if not self._waiting:
                return
            if self._publisher.recently_failed:  # the broker is in trouble: all of it is the relay's
                self._waiting = []
                return
            unknown = {e for w in self._waiting for e in w.message.waits_for} - self._sent
        # Events not handed to this process's producer: published (or dead) by now, or not?
        pending: set[UUID] = set()
        if unknown:
            with self._db.autocommit() as cur:
                pending = self._outbox.still_unpublished(cur, list(unknown))
        with self._lock:
            self._apply_outcomes()
            now = time.monotonic()
            left_to_relay: set[str] = set()  # sessions whose waiting messages the relay will send
            still_behind: set[str] = set()  # sessions with a message that keeps waiting
            sending: set[UUID] = set()
            sendable: list[OutboxMessage] = []
            waiting: list[_Waiting] = []
            for entry in self._waiting:
                message = entry.message
                if message.key in left_to_relay:
                    continue
                # Only what the query looked at counts as published: a message that arrived
                # meanwhile waits for the next round.
                ready = message.key not in still_behind and all(
                    e in self._sent or e in sending or (e in unknown and e not in pending) for e in message.waits_for
                )
                if ready:
                    sendable.append(message)
                    sending.add(message.event_id)
                elif now - entry.since >= self._max_wait:
                    left_to_relay.add(message.key)
                else:
                    still_behind.add(message.key)
                    waiting.append(entry)
            self._waiting = waiting
            self._send(sendable)

    def settle(self, timeout_seconds: float = 5.0) -> None:
        """Wait (bounded) until what was handed to the producer, or is waiting for its turn, is
        acknowledged and marked, or left to the relay."""
        if self._worker is None:
            return
        deadline = time.monotonic() + timeout_seconds
        while True:
            with self._lock:
                waiting = bool(self._waiting)
            if not waiting or time.monotonic() >= deadline:
                break
            self._send_waiting()
            time.sleep(self._mark_interval)
        self._publisher.flush(max(0.0, deadline - time.monotonic()))
        self._write_marks()

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Settle, then stop the background thread (before the database pool closes)."""
        self.settle(timeout_seconds)
        self._closed.set()
        if self._worker is not None:
            self._worker.join(timeout_seconds)
