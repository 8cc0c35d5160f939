"""Use cases for sales: turn a live hold into a sale, and read sales."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from chalicelib.domain.errors import InvalidRequest, NotFound
from chalicelib.domain.events import BookingEvent, EventType
from chalicelib.domain.models import ReservationStatus, Sale
from chalicelib.domain.money import sale_amount
from chalicelib.observability import MetricUnit, count

if TYPE_CHECKING:
    from chalicelib.adapters.reservation_cache import ReservationCache
    from chalicelib.adapters.reservations_repository import ReservationsRepository
    from chalicelib.adapters.sales_repository import SalesRepository
    from chalicelib.services.unit_of_work import UnitOfWork


class HoldLapsedDuringPayment(InvalidRequest):
    pass


class SaleService:
    def __init__(
        self, uow: UnitOfWork, reservations: ReservationsRepository, sales: SalesRepository, cache: ReservationCache
    ) -> None:
        self._uow = uow
        self._reservations = reservations
        self._sales = sales
        self._cache = cache

    def confirm(self, reservation_id: UUID, owner: str | None = None) -> Sale:
        """One transaction: the reservation goes pending -> confirmed only while it is live
        (by the database clock), then every one of its seats must go reserved -> sold, or
        nothing happens. A racing cancel, expiry or second payment finds it no longer pending."""
        with self._uow() as tx:
            cur = tx.cursor
            confirmed = self._reservations.end_pending(cur, reservation_id, ReservationStatus.CONFIRMED, owner)
            if confirmed is None:
                current = self._reservations.get(cur, reservation_id, owner)
                if current is None:
                    raise NotFound(f"reservation {reservation_id} not found")
                raise InvalidRequest(f"reservation is {current.status}; only a pending reservation can be paid")
            sold = self._reservations.sell_seats(cur, reservation_id)
            if len(sold) != len(confirmed.seat_ids):
                # Only possible if the hold lapsed and a seat was re-held in the instant
                # between this transaction's start and its seat update.
                raise HoldLapsedDuringPayment("reservation expired during payment")
            amount = sale_amount(confirmed.unit_price, len(sold))
            sale = self._sales.insert(cur, confirmed, sorted(sold, key=lambda s: s["position"]), amount)
            tx.emit(
                BookingEvent(
                    EventType.SALE_CONFIRMED,
                    sale.session_id,
                    sale.reservation_id,
                    sale.seat_ids,
                    sale.user_id,
                    amount=sale.amount,
                    sale_id=sale.id,
                )
            )
        self._cache.put(confirmed)
        count("Sales")
        count("SeatsSold", len(sale.seat_ids))
        count("Revenue", float(sale.amount), unit=MetricUnit.NoUnit)
        return sale

    def get(self, sale_id: UUID, owner: str | None = None) -> Sale:
        with self._uow.reading() as cur:
            sale = self._sales.get(cur, sale_id, owner)
        if sale is None:
            raise NotFound(f"sale {sale_id} not found")
        return sale

    def for_user(self, user_id: str, *, limit: int = 100, offset: int = 0) -> list[Sale]:
        with self._uow.reading() as cur:
            return self._sales.for_user(cur, user_id, limit=limit, offset=offset)
