"""Expiry of unpaid holds. Availability never waits for this: every read and claim already
treats a lapsed hold as free. The sweep finalises the state and announces it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chalicelib.domain.events import EventType, released_and_ended

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository
    from chalicelib.adapters.reservations_repository import ReservationsRepository
    from chalicelib.services.event_dispatch import EventDispatcher

logger = logging.getLogger(__name__)


class ExpiryService:
    def __init__(
        self,
        db: Database,
        reservations: ReservationsRepository,
        outbox: OutboxRepository,
        events: EventDispatcher,
        *,
        batch_size: int,
    ) -> None:
        self._db = db
        self._reservations = reservations
        self._outbox = outbox
        self._events = events
        self._batch_size = batch_size

    def sweep(self, max_batches: int = 100) -> int:
        """Expire lapsed holds batch by batch; returns how many this run expired."""
        expired_total = 0
        for _ in range(max_batches):
            with self._db.transaction() as cur:
                expired = self._reservations.expire_due(cur, limit=self._batch_size)
                if not expired:
                    break
                self._reservations.release_seats(cur, [r.id for r in expired])
                messages: list[OutboxMessage] = self._outbox.add(
                    cur,
                    [
                        event
                        for r in expired
                        for event in released_and_ended(
                            EventType.RESERVATION_EXPIRED, r.session_id, r.id, r.seat_ids, r.user_id
                        )
                    ],
                )
            expired_total += len(expired)
            self._events.after_commit(messages)
        if expired_total:
            logger.info("expired reservations", extra={"expired": expired_total})
        return expired_total
