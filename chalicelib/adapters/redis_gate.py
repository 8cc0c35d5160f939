"""Redis helpers: a connection that fails fast, and the per-seat admission gate.

Redis is never what makes a booking correct; PostgreSQL is. When Redis is down or has lost
its data, callers carry on without it (the gate admits everyone, caches miss) and the
database's guarded updates still let exactly one request win each seat.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import redis

logger = logging.getLogger(__name__)

T = TypeVar("T")

# All-or-nothing acquisition of every seat lock, in the (sorted) order given.
_ACQUIRE_ALL = """
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) == false then
    for j = 1, i - 1 do redis.call('DEL', KEYS[j]) end
    return 0
  end
end
return 1
"""

# Compare-and-delete: only the owner's token releases a lock, so a request that outlived
# its lock never frees a lock someone else has since taken.
_RELEASE_OWNED = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then released = released + redis.call('DEL', key) end
end
return released
"""


class FailFastRedis:
    """Wraps a Redis client so that, after a failure, calls are skipped for a short while
    instead of every request paying a connection timeout."""

    def __init__(self, client: redis.Redis, retry_after_failure_seconds: float) -> None:
        self.client = client
        self._retry_after = retry_after_failure_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def call(self, operation: Callable[[redis.Redis], T], default: T) -> T:
        if not self.available:
            return default
        try:
            return operation(self.client)
        except redis.RedisError as exc:
            with self._lock:
                self._down_until = time.monotonic() + self._retry_after
            logger.warning("redis unavailable, continuing without it: %s", exc)
            return default


class SeatGate:
    """Fast-fail admission: a request must own the Redis lock of every seat it asks for
    before it may try to claim them in PostgreSQL. Losers get an early 409 without
    touching the database; when Redis is unavailable everyone is admitted."""

    def __init__(self, redis_client: FailFastRedis, ttl_ms: int) -> None:
        self._redis = redis_client
        self._ttl_ms = ttl_ms
        self._acquire = redis_client.client.register_script(_ACQUIRE_ALL)
        self._release = redis_client.client.register_script(_RELEASE_OWNED)

    @staticmethod
    def _keys(seat_ids: Sequence[object]) -> list[str]:
        return [f"lock:seat:{seat_id}" for seat_id in sorted(str(s) for s in seat_ids)]

    def try_enter(self, seat_ids: Sequence[object]) -> str | None:
        """Returns an owner token when admitted (or when Redis is unavailable), None when
        another request holds one of the seats."""
        token = secrets.token_hex(16)
        keys = self._keys(seat_ids)
        admitted = self._redis.call(lambda _: self._acquire(keys=keys, args=[token, self._ttl_ms]), default=1)
        return token if admitted else None

    def leave(self, seat_ids: Sequence[object], token: str) -> None:
        keys = self._keys(seat_ids)
        self._redis.call(lambda _: self._release(keys=keys, args=[token]), default=0)
