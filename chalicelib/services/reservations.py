"""Use cases for seat holds: hold seats, read a hold, cancel it.

A hold passes two gates. Redis per-seat gates (taken in the same round trip as the caller's
rate limits) turn most losers of a race away early and cheaply; PostgreSQL then decides, with
one function that must claim every requested seat or write nothing. Only the second gate is
needed for correctness.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from chalicelib.domain.errors import Conflict, InvalidRequest, NotFound, RateLimited
from chalicelib.domain.events import BookingEvent, EventType, released_and_ended
from chalicelib.domain.models import Reservation, ReservationStatus
from chalicelib.observability import count

if TYPE_CHECKING:
    from chalicelib.adapters.admission import Gatekeeper, Quotas
    from chalicelib.adapters.reservation_cache import ReservationCache
    from chalicelib.adapters.reservations_repository import ReservationsRepository
    from chalicelib.services.unit_of_work import UnitOfWork

_HOLD_REFUSALS = {
    "no_session": NotFound("session not found"),
    "foreign_seats": InvalidRequest("one or more seats do not belong to this session"),
    "started": InvalidRequest("this session has already started"),
    "taken": Conflict("one or more seats are not available"),
}


@dataclass(frozen=True, slots=True)
class HoldRequest:
    session_id: UUID
    seat_ids: tuple[UUID, ...]
    user_id: str
    user_email: str
    quotas: Quotas | None = None  # the caller's rate limits, counted with the seat gates


class ReservationService:
    def __init__(
        self,
        uow: UnitOfWork,
        reservations: ReservationsRepository,
        gatekeeper: Gatekeeper,
        cache: ReservationCache,
        *,
        ttl_seconds: int,
        max_seats_per_reservation: int,
        max_held_seats_per_user: int,
    ) -> None:
        self._uow = uow
        self._reservations = reservations
        self._gatekeeper = gatekeeper
        self._cache = cache
        self._ttl_seconds = ttl_seconds
        self._max_seats = max_seats_per_reservation
        self._max_held_per_user = max_held_seats_per_user

    def _check_seat_list(self, seat_ids: Sequence[UUID]) -> None:
        if not seat_ids:
            raise InvalidRequest("seatIds must name at least one seat")
        if len(seat_ids) > self._max_seats:
            raise InvalidRequest(f"at most {self._max_seats} seats can be held in one reservation")
        if len(set(seat_ids)) != len(seat_ids):
            raise InvalidRequest("seatIds must not contain duplicates")

    def hold(self, request: HoldRequest) -> Reservation:
        self._check_seat_list(request.seat_ids)
        seat_ids = sorted(request.seat_ids)
        reservation_id = uuid.uuid4()
        owner = str(reservation_id)
        admission = self._gatekeeper.admit(request.quotas, seat_ids, owner)
        if admission.rate_limited_for:
            raise RateLimited("too many requests; slow down", admission.rate_limited_for)
        if admission.seats_gated:
            count("HoldConflicts", cause="gate")
            raise Conflict("one or more seats are already being reserved")
        created = BookingEvent(
            EventType.RESERVATION_CREATED, request.session_id, reservation_id, tuple(seat_ids), request.user_id
        )
        try:
            with self._uow.one_statement(created) as tx:
                decided = self._reservations.hold(
                    tx.cursor,
                    reservation_id=reservation_id,
                    session_id=request.session_id,
                    seat_ids=seat_ids,
                    user_id=request.user_id,
                    user_email=request.user_email,
                    ttl_seconds=self._ttl_seconds,
                    max_held_seats=self._max_held_per_user,
                    outbox=tx.outbox,
                )
                tx.wrote(decided.messages)
                reservation = decided.reservation
                if reservation is None:
                    if decided.outcome == "cap":
                        count("HoldConflicts", cause="cap")
                        raise Conflict(
                            f"a user can hold at most {self._max_held_per_user} seats at a time; "
                            f"{decided.already_held} are already held"
                        )
                    if decided.outcome == "taken":
                        count("HoldConflicts", cause="database")
                    raise _HOLD_REFUSALS[decided.outcome]
        except BaseException:
            self._gatekeeper.release(seat_ids, owner)
            raise
        count("Holds")
        count("SeatsHeld", len(seat_ids))
        return reservation

    def get(self, reservation_id: UUID, owner: str | None = None) -> Reservation:
        """``owner`` restricts the lookup to that user's reservations: anyone else's reads as
        missing."""
        cached = self._cache.get(reservation_id)
        if cached is not None and (owner is None or cached.user_id == owner):
            return cached
        with self._uow.reading() as cur:
            reservation = self._reservations.get(cur, reservation_id, owner)
        if reservation is None:
            raise NotFound(f"reservation {reservation_id} not found")
        self._cache.put(reservation)
        return reservation

    def cancel(self, reservation_id: UUID, owner: str | None = None) -> None:
        with self._uow() as tx:
            cancelled = self._reservations.end_pending(tx.cursor, reservation_id, ReservationStatus.CANCELLED, owner)
            if cancelled is None:
                current = self._reservations.get(tx.cursor, reservation_id, owner)
                if current is None:
                    raise NotFound(f"reservation {reservation_id} not found")
                raise InvalidRequest(f"only pending reservations can be cancelled; this one is {current.status}")
            self._reservations.release_seats(tx.cursor, [reservation_id])
            tx.emit(
                *released_and_ended(
                    EventType.RESERVATION_CANCELLED,
                    cancelled.session_id,
                    cancelled.id,
                    cancelled.seat_ids,
                    cancelled.user_id,
                )
            )
        self._gatekeeper.release(cancelled.seat_ids, str(cancelled.id))
        self._cache.put(cancelled)
        count("Cancellations")
