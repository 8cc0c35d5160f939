"""The booking model as plain data. Repositories return these; the API turns them into JSON.

Statuses are *effective* statuses computed by PostgreSQL against its own clock: a pending
reservation whose ``expires_at`` has passed reads as ``expired`` and its seats read as
``available`` whether or not the expiry sweeper has run yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID


class SeatStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    SOLD = "sold"


class ReservationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self is not ReservationStatus.PENDING


@dataclass(frozen=True, slots=True)
class MovieSession:
    id: UUID
    movie_name: str
    room_number: str
    start_time: datetime
    end_time: datetime
    ticket_price: Decimal
    total_seats: int
    available_seats: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Seat:
    id: UUID
    session_id: UUID
    seat_number: str
    status: SeatStatus
    reservation_id: UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Reservation:
    id: UUID
    session_id: UUID
    seat_ids: tuple[UUID, ...]
    seat_numbers: tuple[str, ...]
    user_id: str
    user_email: str
    unit_price: Decimal
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime
    remaining_seconds: int


@dataclass(frozen=True, slots=True)
class Sale:
    id: UUID
    reservation_id: UUID
    session_id: UUID
    seat_ids: tuple[UUID, ...]
    seat_numbers: tuple[str, ...]
    user_id: str
    user_email: str
    amount: Decimal
    created_at: datetime
