"""The Redis connection every Redis adapter shares, failing fast.

Redis is never what makes a booking correct; PostgreSQL is. When Redis is down or has lost its
data, callers carry on without it, so after a failure calls are skipped for a short while
instead of every request paying a connection timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from chalicelib.observability import logger, traced

T = TypeVar("T")


class FailFastRedis:
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
            with traced("Redis"):
                return operation(self.client)
        except redis.RedisError as exc:
            with self._lock:
                self._down_until = time.monotonic() + self._retry_after
            logger.warning("redis unavailable, continuing without it: %s", exc)
            return default
