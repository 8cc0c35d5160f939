"""Event envelopes published to Kafka for every state change.

All booking events go to one topic, keyed by ``sessionId``: Kafka keeps order per key,
so every consumer sees one session's history in the order it was committed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from chalicelib.domain.money import format_money

EVENT_VERSION = 1


class EventType(StrEnum):
    RESERVATION_CREATED = "reservation.created"
    RESERVATION_CANCELLED = "reservation.cancelled"
    RESERVATION_EXPIRED = "reservation.expired"
    SEAT_RELEASED = "seat.released"
    SALE_CONFIRMED = "sale.confirmed"


@dataclass(frozen=True, slots=True)
class BookingEvent:
    type: EventType
    session_id: UUID
    reservation_id: UUID
    seat_ids: tuple[UUID, ...]
    user_id: str
    amount: Decimal | None = None
    sale_id: UUID | None = None
    event_id: UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def key(self) -> str:
        return str(self.session_id)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "eventId": str(self.event_id),
            "type": self.type.value,
            "version": EVENT_VERSION,
            "occurredAt": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "sessionId": str(self.session_id),
            "reservationId": str(self.reservation_id),
            "seatIds": [str(seat_id) for seat_id in self.seat_ids],
            "userId": self.user_id,
        }
        if self.amount is not None:
            body["amount"] = format_money(self.amount)
        if self.sale_id is not None:
            body["saleId"] = str(self.sale_id)
        return body


def released_and_ended(
    ended: EventType, session_id: UUID, reservation_id: UUID, seat_ids: Iterable[UUID], user_id: str
) -> list[BookingEvent]:
    """A hold ending (cancel or expiry) is announced as the reservation event plus seat.released."""
    seats = tuple(seat_ids)
    return [
        BookingEvent(ended, session_id, reservation_id, seats, user_id),
        BookingEvent(EventType.SEAT_RELEASED, session_id, reservation_id, seats, user_id),
    ]


class PoisonMessage(ValueError):
    """A message that can never be processed, however often it is retried."""


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """An event as a consumer sees it, with where it came from on Kafka."""

    event_id: UUID
    type: EventType
    occurred_at: datetime
    session_id: UUID
    reservation_id: UUID
    seat_ids: tuple[UUID, ...]
    user_id: str
    amount: Decimal | None
    payload: dict[str, Any]
    topic: str
    partition: int
    offset: int


def parse_received(value: bytes | None, *, topic: str, partition: int, offset: int) -> ReceivedEvent:
    """Decode and check an event envelope; anything malformed is a PoisonMessage."""
    try:
        payload = json.loads(value or b"")
        if not isinstance(payload, dict):
            raise PoisonMessage("event is not a JSON object")
        if payload.get("version") != EVENT_VERSION:
            raise PoisonMessage(f"unsupported event version {payload.get('version')!r}")
        amount = payload.get("amount")
        return ReceivedEvent(
            event_id=UUID(payload["eventId"]),
            type=EventType(payload["type"]),
            occurred_at=datetime.fromisoformat(payload["occurredAt"].replace("Z", "+00:00")),
            session_id=UUID(payload["sessionId"]),
            reservation_id=UUID(payload["reservationId"]),
            seat_ids=tuple(UUID(seat) for seat in payload["seatIds"]),
            user_id=str(payload["userId"]),
            amount=Decimal(amount) if amount is not None else None,
            payload=payload,
            topic=topic,
            partition=partition,
            offset=offset,
        )
    except PoisonMessage:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
        raise PoisonMessage(f"malformed event: {exc!r}") from exc
