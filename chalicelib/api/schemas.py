"""Request and response models of the HTTP API (camelCase on the wire).

Requests reject unknown fields, and fields the server owns (status, price of a hold,
amount, expiry) are simply not part of any request model.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
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
    create_model,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from chalicelib.domain.actors import MAX_USER_ID_LENGTH
from chalicelib.domain.models import ReservationStatus, SeatStatus
from chalicelib.domain.money import format_money, parse_money
from chalicelib.domain.seating import MAX_SEATS, MIN_SEATS

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
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_USER_ID_LENGTH),
    BeforeValidator(_printable),
]
Email = Annotated[EmailStr, BeforeValidator(_printable)]
SeatCount = Annotated[StrictInt, Field(ge=MIN_SEATS, le=MAX_SEATS)]


# Python names in snake_case, JSON keys in camelCase.
_CAMEL_CASE = ConfigDict(frozen=True, defer_build=True, alias_generator=to_camel)


class RequestModel(BaseModel):
    """Requests take camelCase keys only: a snake_case key is an unknown field, refused."""

    model_config = ConfigDict(**_CAMEL_CASE, extra="forbid", validate_by_name=False)


class CreateSessionRequest(RequestModel):
    movie_name: Text255
    room_number: RoomNumber
    start_time: RequestTime
    end_time: RequestTime
    ticket_price: Price
    total_seats: SeatCount


class _SessionChangesRequest(RequestModel):
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


def _optional(field: FieldInfo) -> Any:
    """The same field, with the same rules, but one a request may leave out."""
    annotation: Any = field.annotation
    return Annotated[annotation, *field.metadata] | None, None


# Any of a new session's fields, each with the same rules.
UpdateSessionRequest = create_model(
    "UpdateSessionRequest",
    __base__=_SessionChangesRequest,
    **{name: _optional(field) for name, field in CreateSessionRequest.model_fields.items()},
)


class CreateReservationRequest(RequestModel):
    session_id: UUID
    seat_ids: Annotated[list[UUID], Field(max_length=MAX_SEAT_IDS_IN_REQUEST)]
    user_id: UserId
    user_email: Email


class CreateSaleRequest(RequestModel):
    reservation_id: UUID


class DevelopmentLoginRequest(RequestModel):
    user_id: UserId
    admin: StrictBool = False


class ResponseModel(BaseModel):
    """Responses are read from the domain's objects by attribute name and written in camelCase."""

    model_config = ConfigDict(**_CAMEL_CASE, from_attributes=True, validate_by_name=True, serialize_by_alias=True)


class SessionResponse(ResponseModel):
    id: UUID
    movie_name: str
    room_number: str
    start_time: Timestamp
    end_time: Timestamp
    ticket_price: Money
    total_seats: int
    available_seats: int
    created_at: Timestamp
    updated_at: Timestamp


class SeatResponse(ResponseModel):
    id: UUID
    session_id: UUID
    seat_number: str
    status: SeatStatus
    reservation_id: UUID | None
    created_at: Timestamp
    updated_at: Timestamp


class ReservationResponse(ResponseModel):
    id: UUID
    session_id: UUID
    seat_ids: list[UUID]
    seat_numbers: list[str]
    user_id: str
    user_email: str
    status: ReservationStatus
    created_at: Timestamp
    expires_at: Timestamp
    remaining_seconds: int


class SaleResponse(ResponseModel):
    id: UUID
    reservation_id: UUID
    session_id: UUID
    seat_ids: list[UUID]
    seat_numbers: list[str]
    user_id: str
    user_email: str
    amount: Money
    created_at: Timestamp


class ErrorResponse(ResponseModel):
    status_code: int
    error: str
    message: str
    details: list[str] | None = None


class CountersResponse(ResponseModel):
    reservations_created: int
    seats_reserved: int
    reservations_cancelled: int
    reservations_expired: int
    seats_released: int
    sales: int
    seats_sold: int
    revenue: Money
    conversion_rate: Money


class DailyCountersResponse(CountersResponse):
    day: Annotated[date, Field(alias="date")]


class SessionMetricsResponse(ResponseModel):
    session_id: UUID
    lifetime: CountersResponse
    daily: list[DailyCountersResponse]


class SessionTotalsResponse(CountersResponse):
    session_id: UUID
    movie_name: str | None


class AllMetricsResponse(ResponseModel):
    totals: CountersResponse
    sessions: list[SessionTotalsResponse]
    top_sessions: list[SessionTotalsResponse]


class AuditEventResponse(ResponseModel):
    event_id: UUID
    type: str
    occurred_at: Timestamp
    recorded_at: Timestamp
    event: dict[str, Any]


class HealthResponse(ResponseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Literal["up", "down"]]
    down: list[str]
