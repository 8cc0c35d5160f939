"""Read cache for reservations that can no longer change.

Only final reservations (confirmed, cancelled, expired) are cached: they are immutable, so
the cache can never serve a stale status, and a pending reservation's status and
``remainingSeconds`` always come from the database clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from chalicelib.adapters.redis_client import FailFastRedis
from chalicelib.domain.models import Reservation, ReservationStatus

CACHE_TTL_SECONDS = 3600


def _encode(reservation: Reservation) -> str:
    return json.dumps(
        {
            "id": str(reservation.id),
            "session_id": str(reservation.session_id),
            "seat_ids": [str(s) for s in reservation.seat_ids],
            "seat_numbers": list(reservation.seat_numbers),
            "user_id": reservation.user_id,
            "user_email": reservation.user_email,
            "unit_price": str(reservation.unit_price),
            "status": reservation.status.value,
            "created_at": reservation.created_at.isoformat(),
            "expires_at": reservation.expires_at.isoformat(),
        }
    )


def _decode(raw: str | bytes) -> Reservation:
    data = json.loads(raw)
    return Reservation(
        id=UUID(data["id"]),
        session_id=UUID(data["session_id"]),
        seat_ids=tuple(UUID(s) for s in data["seat_ids"]),
        seat_numbers=tuple(data["seat_numbers"]),
        user_id=data["user_id"],
        user_email=data["user_email"],
        unit_price=Decimal(data["unit_price"]),
        status=ReservationStatus(data["status"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        remaining_seconds=0,
    )


class ReservationCache:
    def __init__(self, redis_client: FailFastRedis) -> None:
        self._redis = redis_client

    @staticmethod
    def _key(reservation_id: UUID) -> str:
        return f"reservation:{reservation_id}"

    def get(self, reservation_id: UUID) -> Reservation | None:
        raw = self._redis.call(lambda r: r.get(self._key(reservation_id)), default=None)
        if raw is None:
            return None
        try:
            return _decode(raw)
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, reservation: Reservation) -> None:
        if reservation.status.is_final:
            payload = _encode(reservation)
            self._redis.call(lambda r: r.set(self._key(reservation.id), payload, ex=CACHE_TTL_SECONDS), default=None)
