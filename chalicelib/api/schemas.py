"""Request and response models of the HTTP API (camelCase on the wire).

Requests reject unknown fields, and fields the server owns (status, price of a hold,
amount, expiry) are simply not part of any request model.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from chalicelib.domain.models import MovieSession, Reservation, Sale, Seat
from chalicelib.domain.money import format_money, parse_money
from chalicelib.domain.seating import MAX_SEATS, MIN_SEATS
from chalicelib.services.metrics import AllMetrics, Counters, SessionMetrics, SessionTotals

MAX_SEAT_IDS_IN_REQUEST = 100


def _iso_string_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    return value


# Cc (C0, DEL and C1 controls) and lone surrogates: PostgreSQL text cannot hold NUL, a lone
# surrogate cannot be encoded at all, and the others only ever serve to disguise or break text.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_CHARACTERS = "control characters or unpaired surrogates"


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTER.search(text) is not None


def _printable(value: Any) -> Any:
    # Before trimming: str.strip() would drop a trailing "\x1c" or "\x85" and hide it.
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError(f"must not contain {CONTROL_CHARACTERS}")
    return value


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(_timestamp, return_type=str)]
Money = Annotated[Decimal, PlainSerializer(format_money, return_type=str)]
RequestTime = Annotated[AwareDatetime, BeforeValidator(_iso_string_only)]
Price = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    Field(gt=0, max_digits=10, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}],
            "description": "greater than 0, at most 8 integer digits and 2 decimals; a string uses ASCII digits",
        }
    ),
]
Text255 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), BeforeValidator(_printable)
]
RoomNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), BeforeValidator(_printable)
]
UserId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), BeforeValidator(_printable)
]
Email = Annotated[EmailStr, BeforeValidator(_printable)]
SeatCount = Annotated[StrictInt, Field(ge=MIN_SEATS, le=MAX_SEATS)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CreateSessionRequest(RequestModel):
    movieName: Text255
    roomNumber: RoomNumber
    startTime: RequestTime
    endTime: RequestTime
    ticketPrice: Price
    totalSeats: SeatCount


class UpdateSessionRequest(RequestModel):
    movieName: Text255 | None = None
    roomNumber: RoomNumber | None = None
    startTime: RequestTime | None = None
    endTime: RequestTime | None = None
    ticketPrice: Price | None = None
    totalSeats: SeatCount | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_and_not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data:
                raise ValueError("at least one field must be given")
            nulls = sorted(key for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"fields cannot be null: {', '.join(nulls)}")
        return data


class CreateReservationRequest(RequestModel):
    sessionId: UUID
    seatIds: Annotated[list[UUID], Field(max_length=MAX_SEAT_IDS_IN_REQUEST)]
    userId: UserId
    userEmail: Email


class CreateSaleRequest(RequestModel):
    reservationId: UUID


class DevelopmentLoginRequest(RequestModel):
    userId: UserId
    admin: StrictBool = False


class ResponseModel(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class SessionResponse(ResponseModel):
    id: UUID
    movieName: str
    roomNumber: str
    startTime: Timestamp
    endTime: Timestamp
    ticketPrice: Money
    totalSeats: int
    availableSeats: int
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def of(cls, s: MovieSession) -> SessionResponse:
        return cls(
            id=s.id,
            movieName=s.movie_name,
            roomNumber=s.room_number,
            startTime=s.start_time,
            endTime=s.end_time,
            ticketPrice=s.ticket_price,
            totalSeats=s.total_seats,
            availableSeats=s.available_seats,
            createdAt=s.created_at,
            updatedAt=s.updated_at,
        )


class SeatResponse(ResponseModel):
    id: UUID
    sessionId: UUID
    seatNumber: str
    status: Literal["available", "reserved", "sold"]
    reservationId: UUID | None
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def of(cls, s: Seat) -> SeatResponse:
        return cls(
            id=s.id,
            sessionId=s.session_id,
            seatNumber=s.seat_number,
            status=s.status.value,
            reservationId=s.reservation_id,
            createdAt=s.created_at,
            updatedAt=s.updated_at,
        )


class ReservationResponse(ResponseModel):
    id: UUID
    sessionId: UUID
    seatIds: list[UUID]
    seatNumbers: list[str]
    userId: str
    userEmail: str
    status: Literal["pending", "confirmed", "cancelled", "expired"]
    createdAt: Timestamp
    expiresAt: Timestamp
    remainingSeconds: int

    @classmethod
    def of(cls, r: Reservation) -> ReservationResponse:
        return cls(
            id=r.id,
            sessionId=r.session_id,
            seatIds=list(r.seat_ids),
            seatNumbers=list(r.seat_numbers),
            userId=r.user_id,
            userEmail=r.user_email,
            status=r.status.value,
            createdAt=r.created_at,
            expiresAt=r.expires_at,
            remainingSeconds=r.remaining_seconds,
        )


class SaleResponse(ResponseModel):
    id: UUID
    reservationId: UUID
    sessionId: UUID
    seatIds: list[UUID]
    seatNumbers: list[str]
    userId: str
    userEmail: str
    amount: Money
    createdAt: Timestamp

    @classmethod
    def of(cls, s: Sale) -> SaleResponse:
        return cls(
            id=s.id,
            reservationId=s.reservation_id,
            sessionId=s.session_id,
            seatIds=list(s.seat_ids),
            seatNumbers=list(s.seat_numbers),
            userId=s.user_id,
            userEmail=s.user_email,
            amount=s.amount,
            createdAt=s.created_at,
        )


class ErrorResponse(ResponseModel):
    statusCode: int
    error: str
    message: str
    details: list[str] | None = None


class CountersResponse(ResponseModel):
    reservationsCreated: int
    seatsReserved: int
    reservationsCancelled: int
    reservationsExpired: int
    seatsReleased: int
    sales: int
    seatsSold: int
    revenue: Money
    conversionRate: Annotated[Decimal, PlainSerializer(format_money, return_type=str)]

    @classmethod
    def of(cls, c: Counters) -> CountersResponse:
        return cls(
            reservationsCreated=c.reservations_created,
            seatsReserved=c.seats_reserved,
            reservationsCancelled=c.reservations_cancelled,
            reservationsExpired=c.reservations_expired,
            seatsReleased=c.seats_released,
            sales=c.sales,
            seatsSold=c.seats_sold,
            revenue=c.revenue,
            conversionRate=c.conversion_rate,
        )


class DailyCountersResponse(CountersResponse):
    date: str


class SessionMetricsResponse(ResponseModel):
    sessionId: UUID
    lifetime: CountersResponse
    daily: list[DailyCountersResponse]

    @classmethod
    def of(cls, m: SessionMetrics) -> SessionMetricsResponse:
        return cls(
            sessionId=m.session_id,
            lifetime=CountersResponse.of(m.lifetime),
            daily=[
                DailyCountersResponse(date=day.isoformat(), **CountersResponse.of(c).model_dump()) for day, c in m.daily
            ],
        )


class SessionTotalsResponse(CountersResponse):
    sessionId: UUID
    movieName: str | None


class AllMetricsResponse(ResponseModel):
    totals: CountersResponse
    sessions: list[SessionTotalsResponse]
    topSessions: list[SessionTotalsResponse]

    @classmethod
    def of(cls, m: AllMetrics) -> AllMetricsResponse:
        def row(s: SessionTotals) -> SessionTotalsResponse:
            return SessionTotalsResponse(
                sessionId=s.session_id, movieName=s.movie_name, **CountersResponse.of(s.counters).model_dump()
            )

        return cls(
            totals=CountersResponse.of(m.totals),
            sessions=[row(s) for s in m.sessions],
            topSessions=[row(s) for s in m.top_sessions],
        )


class AuditEventResponse(ResponseModel):
    eventId: UUID
    type: str
    occurredAt: Timestamp
    recordedAt: Timestamp
    event: dict[str, Any]


class HealthResponse(ResponseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Literal["up", "down"]]
    down: list[str]
