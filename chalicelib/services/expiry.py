"""Expiry of unpaid holds. Availability never waits for this: every read and claim already
treats a lapsed hold as free. The sweep finalises the state and announces it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.events import EventType, released_and_ended
from chalicelib.observability import count, logger

if TYPE_CHECKING:
    from chalicelib.adapters.reservations_repository import ReservationsRepository
    from chalicelib.services.unit_of_work import UnitOfWork


class ExpiryService:
    def __init__(self, uow: UnitOfWork, reservations: ReservationsRepository, *, batch_size: int) -> None:
        self._uow = uow
        self._reservations = reservations
        self._batch_size = batch_size

    def sweep(self, max_batches: int = 100) -> int:
        """Expire lapsed holds batch by batch; returns how many this run expired."""
        expired_total = 0
        for _ in range(max_batches):
            with self._uow() as tx:
                expired = self._reservations.expire_due(tx.cursor, limit=self._batch_size)
                if not expired:
                    break
                self._reservations.release_seats(tx.cursor, [r.id for r in expired])
                for r in expired:
                    tx.emit(
                        *released_and_ended(EventType.RESERVATION_EXPIRED, r.session_id, r.id, r.seat_ids, r.user_id)
                    )
            expired_total += len(expired)
        if expired_total:
            count("Expiries", expired_total)
            logger.info("expired reservations", extra={"expired": expired_total})
        return expired_total
