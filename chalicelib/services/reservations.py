"""Use cases for seat holds: hold seats, read a hold, cancel it.

A hold passes two gates. Redis per-seat locks turn most losers of a race away early and
cheaply; PostgreSQL then decides, with one conditional update that must claim every
requested seat or roll back. Only the second gate is needed for correctness.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from chalicelib.domain.errors import Conflict, InvalidRequest, NotFound
from chalicelib.domain.events import BookingEvent, EventType, released_and_ended
from chalicelib.domain.models import Reservation, ReservationStatus

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.outbox_repository import OutboxRepository
    from chalicelib.adapters.redis_gate import SeatGate
    from chalicelib.adapters.reservation_cache import ReservationCache
    from chalicelib.adapters.reservations_repository import ReservationsRepository
    from chalicelib.services.event_dispatch import EventDispatcher

_CLAIM_FAILURES = {
    "no_session": NotFound("session not found"),
    "foreign_seats": InvalidRequest("one or more seats do not belong to this session"),
    "started": InvalidRequest("this session has already started"),
}


@dataclass(frozen=True, slots=True)
class HoldRequest:
    session_id: UUID
    seat_ids: tuple[UUID, ...]
    user_id: str
    user_email: str


class ReservationService:
    def __init__(
        self,
        db: Database,
        reservations: ReservationsRepository,
        outbox: OutboxRepository,
        gate: SeatGate,
        cache: ReservationCache,
        events: EventDispatcher,
        *,
        ttl_seconds: int,
        max_seats_per_reservation: int,
        max_held_seats_per_user: int,
    ) -> None:
        self._db = db
        self._reservations = reservations
        self._outbox = outbox
        self._gate = gate
        self._cache = cache
        self._events = events
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
        token = self._gate.try_enter(seat_ids)
        if token is None:
            raise Conflict("one or more seats are already being reserved")
        try:
            reservation, messages = self._claim(request, seat_ids)
        finally:
            self._gate.leave(seat_ids, token)
        self._events.after_commit(messages)
        return reservation

    def _claim(self, request: HoldRequest, seat_ids: list[UUID]) -> tuple[Reservation, list]:
        reservation_id = uuid.uuid4()
        with self._db.transaction() as cur:
            already_held = self._reservations.lock_holder(cur, request.user_id)
            if already_held + len(seat_ids) > self._max_held_per_user:
                raise Conflict(
                    f"a user can hold at most {self._max_held_per_user} seats at a time; "
                    f"{already_held} are already held"
                )
            claimed = self._reservations.claim_seats(
                cur,
                reservation_id=reservation_id,
                session_id=request.session_id,
                seat_ids=seat_ids,
                ttl_seconds=self._ttl_seconds,
            )
            if len(claimed) != len(seat_ids):
                reason = self._reservations.diagnose_failed_claim(cur, request.session_id, seat_ids)
                raise _CLAIM_FAILURES.get(reason, Conflict("one or more seats are not available"))
            claimed.sort(key=lambda seat: seat["position"])
            reservation = self._reservations.insert(
                cur,
                reservation_id=reservation_id,
                session_id=request.session_id,
                seat_ids=[seat["id"] for seat in claimed],
                seat_numbers=[seat["seat_number"] for seat in claimed],
                user_id=request.user_id,
                user_email=request.user_email,
                ttl_seconds=self._ttl_seconds,
            )
            messages = self._outbox.add(
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
        return reservation, messages

    def get(self, reservation_id: UUID, owner: str | None = None) -> Reservation:
        """``owner`` restricts the lookup to that user's reservations: anyone else's reads as
        missing."""
        cached = self._cache.get(reservation_id)
        if cached is not None and (owner is None or cached.user_id == owner):
            return cached
        with self._db.transaction() as cur:
            reservation = self._reservations.get(cur, reservation_id, owner)
        if reservation is None:
            raise NotFound(f"reservation {reservation_id} not found")
        self._cache.put(reservation)
        return reservation

    def cancel(self, reservation_id: UUID, owner: str | None = None) -> None:
        with self._db.transaction() as cur:
            cancelled = self._reservations.end_pending(cur, reservation_id, ReservationStatus.CANCELLED, owner)
            if cancelled is None:
                current = self._reservations.get(cur, reservation_id, owner)
                if current is None:
                    raise NotFound(f"reservation {reservation_id} not found")
                raise InvalidRequest(f"only pending reservations can be cancelled; this one is {current.status}")
            self._reservations.release_seats(cur, [reservation_id])
            messages = self._outbox.add(
                cur,
                released_and_ended(
                    EventType.RESERVATION_CANCELLED,
                    cancelled.session_id,
                    cancelled.id,
                    cancelled.seat_ids,
                    cancelled.user_id,
                ),
            )
        self._cache.put(cancelled)
        self._events.after_commit(messages)
