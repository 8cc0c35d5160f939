"""The fast path out of the outbox: events go to Kafka right after their transaction commits,
and nobody waits for the broker.

- ``publish`` hands a committed transaction's messages to the producer and returns.
- A background thread serves the producer's delivery reports and writes the published marks
  of whatever the broker acknowledged, in one UPDATE per ``mark_interval_seconds``.
- ``settle`` waits for both (the end of a Lambda invocation, whose environment is frozen
  until the next one; tests).

Whatever this misses (Kafka down, the process killed after commit, a mark not yet written)
stays unpublished in the outbox and the relay sends it later, so no event is lost; a message
sent by both paths carries the same event id and consumers drop the second copy.

Order per session: a message is sent here only when every older unpublished event of its
session is one this process has already handed to its producer, which keeps them in order
(same partition, idempotent producer). Anything else waits for the relay, which publishes in
commit order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from chalicelib.adapters.outbox_repository import WAITS_FOR_LIMIT

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository

logger = logging.getLogger(__name__)


class EventDispatcher:
    def __init__(
        self,
        db: Database,
        outbox: OutboxRepository,
        publisher: EventPublisher,
        *,
        mark_interval_seconds: float = 0.02,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._publisher = publisher
        self._mark_interval = mark_interval_seconds
        self._lock = threading.Lock()
        self._sent: set[UUID] = set()  # handed to the producer, published mark not yet written
        self._delivered: list[UUID] = []
        self._worker: threading.Thread | None = None
        self._closed = threading.Event()

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages or self._publisher.recently_failed:
            return
        with self._lock:
            sendable = []
            for message in messages:
                waits_for = message.waits_for
                if len(waits_for) > WAITS_FOR_LIMIT or not self._sent.issuperset(waits_for):
                    break  # this and the rest of the transaction's events wait for the relay
                sendable.append(message)
            if not sendable:
                return
            try:
                taken = self._publisher.send(sendable, self._record_delivery)
            except Exception:  # the booking is committed; publishing is the relay's job from here
                logger.exception("fast-path publish failed; the relay will retry")
                return
            self._sent.update(taken)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve_deliveries, name="event-dispatch", daemon=True)
                self._worker.start()

    def _record_delivery(self, event_id: UUID, delivered: bool) -> None:
        with self._lock:
            if delivered:
                self._delivered.append(event_id)
            else:  # the relay sends it; nothing may be sent after it on the fast path now
                self._sent.discard(event_id)

    def _serve_deliveries(self) -> None:
        while not self._closed.is_set():
            started = time.monotonic()
            try:
                self._publisher.poll(self._mark_interval)
                self._write_marks()
            except Exception:  # a mark not written only means the relay sends that event again
                logger.exception("writing published marks failed")
            self._closed.wait(max(0.0, self._mark_interval - (time.monotonic() - started)))

    def _write_marks(self) -> None:
        with self._lock:
            delivered, self._delivered = self._delivered, []
        if not delivered:
            return
        with self._db.autocommit() as cur:
            self._outbox.mark_published(cur, delivered)
        with self._lock:
            self._sent.difference_update(delivered)

    def settle(self, timeout_seconds: float = 5.0) -> None:
        """Wait (bounded) until what was handed to the producer is acknowledged and marked."""
        if self._worker is None:
            return
        self._publisher.flush(timeout_seconds)
        self._write_marks()

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Settle, then stop the delivery thread (before the database pool closes)."""
        self.settle(timeout_seconds)
        self._closed.set()
        if self._worker is not None:
            self._worker.join(timeout_seconds)
