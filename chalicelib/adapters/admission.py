"""Admission in Redis: the caller's rate limits and the seats' gates, in one round trip.

- **Rate limits** are sliding windows: each quota keeps a counter per fixed window, and the
  estimate is the current window's count plus the previous window's, weighted by how much of
  it still overlaps the sliding window. Every quota must allow the request, then each counts it.
- **Seat gates** turn most losers of a race away before they reach PostgreSQL: a hold must
  take the gate of every seat it wants (``SET NX PX``, all or none, in sorted order, with the
  reservation id as the owner). A hold that succeeds leaves its gates to lapse on their TTL
  (``SEAT_GATE_TTL_MS``, 5 s), so the burst of attempts that follows a popular seat's sale
  gets its 409 from Redis, and the hold costs no second Redis command. A hold that fails, and
  a cancel, give the gates back before answering, so the next request finds them free.

Redis never decides a booking: when it is down, or has lost its data, everyone is admitted and
PostgreSQL's guarded claim lets exactly one request win each seat. Rate limits then let
requests through: they protect capacity, never correctness.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.adapters.redis_client import FailFastRedis

# KEYS: the quotas' key prefixes, then the seat gates. ARGV: number of quotas, window seconds,
# now, each quota's limit, the gate owner, the gate TTL in ms.
# Returns {1, 0} admitted, {0, retry seconds} over a rate limit, {2, 0} a seat is gated.
_ADMIT = """
local quotas = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local current_start = math.floor(now / window) * window
local weight = 1 - ((now - current_start) / window)
local counters = {}
for i = 1, quotas do
  local limit = tonumber(ARGV[3 + i])
  local current_key = KEYS[i] .. ':' .. current_start
  local current = tonumber(redis.call('GET', current_key) or '0')
  local previous = tonumber(redis.call('GET', KEYS[i] .. ':' .. (current_start - window)) or '0')
  if previous * weight + current >= limit then
    local retry = window - (now - current_start)
    if previous > 0 and current < limit then
      retry = math.max(0.001, (previous * weight + current - limit + 1) / previous * window)
    end
    return {0, tostring(retry)}
  end
  counters[i] = current_key
end
for i = 1, quotas do
  redis.call('INCR', counters[i])
  redis.call('PEXPIRE', counters[i], math.ceil(window * 2000))
end
local owner = ARGV[4 + quotas]
local ttl = ARGV[5 + quotas]
for i = quotas + 1, #KEYS do
  if redis.call('SET', KEYS[i], owner, 'NX', 'PX', ttl) == false then
    for j = quotas + 1, i - 1 do redis.call('DEL', KEYS[j]) end
    return {2, '0'}
  end
end
return {1, '0'}
"""

# Only the owner gives its gates back: a request that outlived its gate never frees a gate
# someone else has taken since.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then released = released + redis.call('DEL', key) end
end
return released
"""


@dataclass
class Quotas:
    """The rate limits one request counts against: (key, limit per window) pairs. Spent once,
    by whichever Redis round trip of the request comes first."""

    limits: tuple[tuple[str, int], ...]
    spent: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Admission:
    """``rate_limited_for`` > 0: over a rate limit, retry after that many seconds. Otherwise
    ``seats_gated`` says whether another request holds the gate of a wanted seat."""

    rate_limited_for: int = 0
    seats_gated: bool = False


_ADMITTED = Admission()


class Gatekeeper:
    def __init__(self, redis_client: FailFastRedis, *, window_seconds: int, gate_ttl_ms: int) -> None:
        self._redis = redis_client
        self._window = window_seconds
        self._gate_ttl_ms = gate_ttl_ms
        self._admit = redis_client.client.register_script(_ADMIT)
        self._release = redis_client.client.register_script(_RELEASE)

    @staticmethod
    def _gate_keys(seat_ids: Sequence[object]) -> list[str]:
        return [f"lock:seat:{seat_id}" for seat_id in sorted(str(s) for s in seat_ids)]

    def admit(self, quotas: Quotas | None, seat_ids: Sequence[object] = (), owner: str = "") -> Admission:
        """Count the request against its quotas (unless already spent) and take the seats' gates."""
        limits = () if quotas is None or quotas.spent else quotas.limits
        if quotas is not None:
            quotas.spent = True
        if not limits and not seat_ids:
            return _ADMITTED
        keys = [f"ratelimit:{key}" for key, _ in limits] + self._gate_keys(seat_ids)
        args: list[Any] = [len(limits), self._window, time.time(), *(limit for _, limit in limits)]
        args += [owner, self._gate_ttl_ms]
        result: list[Any] = self._redis.call(lambda _: self._admit(keys=keys, args=args), default=[1, "0"])
        code = int(result[0])
        if code == 0:
            return Admission(rate_limited_for=max(1, math.ceil(float(result[1]))))
        return Admission(seats_gated=True) if code == 2 else _ADMITTED

    def release(self, seat_ids: Sequence[object], owner: str) -> None:
        """Give the owner's gates back."""
        keys = self._gate_keys(seat_ids)
        self._redis.call(lambda _: self._release(keys=keys, args=[owner]), default=0)
