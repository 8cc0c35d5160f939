"""Fakes of the small interfaces the services use (database, outbox, publisher), for unit tests
that run in milliseconds with no service at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class FakeDatabase:
    """``transaction()`` and ``autocommit()`` yield a dummy cursor and count what happened."""

    def __init__(self) -> None:
        self.committed = 0
        self.rolled_back = 0

    @contextmanager
    def transaction(self) -> Iterator[object]:
        try:
            yield object()
        except BaseException:
            self.rolled_back += 1
            raise
        self.committed += 1

    autocommit = transaction
