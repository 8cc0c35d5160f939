"""Sliding-window rate limiting in Redis.

Each key keeps a counter per fixed window; the estimate is the current window's count plus
the previous window's count weighted by how much of it still overlaps the sliding window.
When Redis is unavailable requests are allowed: rate limits protect capacity, and
correctness never depends on them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.redis_gate import FailFastRedis

_SLIDING_WINDOW = """
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local current_start = math.floor(now / window) * window
local current_key = KEYS[1] .. ':' .. current_start
local previous_key = KEYS[1] .. ':' .. (current_start - window)
local current = tonumber(redis.call('GET', current_key) or '0')
local previous = tonumber(redis.call('GET', previous_key) or '0')
local weight = 1 - ((now - current_start) / window)
local estimate = previous * weight + current
if estimate >= limit then
  local retry = window - (now - current_start)
  if previous > 0 and current < limit then
    retry = math.max(0.001, (previous * weight + current - limit + 1) / previous * window)
  end
  return {0, tostring(retry)}
end
redis.call('INCR', current_key)
redis.call('PEXPIRE', current_key, math.ceil(window * 2000))
return {1, '0'}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_seconds: int


class RateLimiter:
    def __init__(self, redis_client: FailFastRedis, window_seconds: int) -> None:
        self._redis = redis_client
        self._window = window_seconds
        self._script = redis_client.client.register_script(_SLIDING_WINDOW)

    def hit(self, key: str, limit: int) -> Decision:
        result: list[Any] = self._redis.call(
            lambda _: self._script(keys=[f"ratelimit:{key}"], args=[self._window, limit, time.time()]),
            default=[1, "0"],
        )
        allowed = int(result[0]) == 1
        retry = 0 if allowed else max(1, math.ceil(float(result[1])))
        return Decision(allowed, retry)
