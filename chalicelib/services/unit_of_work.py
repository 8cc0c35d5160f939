"""The unit of work: one database transaction, the events it emits, and their way out.

A service says what happened and nothing about how events travel:

    with self._uow() as tx:
        reservation = self._reservations.hold(tx.cursor, ...)
        tx.emit(BookingEvent(EventType.RESERVATION_CREATED, ...))

When the block ends without an error, the unit of work writes the emitted events to the
outbox inside the same transaction, commits, and hands them to the dispatcher, which
publishes them after the commit. If the block raises, the transaction rolls back and its
events are gone with it.

A use case whose whole transaction is one statement (a hold: ``hold_seats``) runs it on its
own, in one round trip, and that statement writes its events to the outbox itself, through
the same ``outbox_insert``, only if it makes them true:

    with self._uow.one_statement(event) as tx:
        decided = self._reservations.hold(tx.cursor, ..., outbox=tx.outbox)
        tx.wrote(decided.messages)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chalicelib.domain.events import BookingEvent

if TYPE_CHECKING:
    from chalicelib.adapters.database import Cursor, Database
    from chalicelib.adapters.outbox_repository import OutboxBatch, OutboxMessage, OutboxRepository
    from chalicelib.services.event_dispatch import EventDispatcher


class Transaction:
    __slots__ = ("cursor", "events")

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self.events: list[BookingEvent] = []

    def emit(self, *events: BookingEvent) -> None:
        self.events.extend(events)


class OneStatement:
    __slots__ = ("cursor", "messages", "outbox")

    def __init__(self, cursor: Cursor, outbox: OutboxBatch) -> None:
        self.cursor = cursor
        self.outbox = outbox
        self.messages: list[OutboxMessage] = []

    def wrote(self, messages: list[OutboxMessage]) -> None:
        """The outbox messages the statement wrote (none if it changed nothing)."""
        self.messages = messages


class UnitOfWork:
    def __init__(self, db: Database, outbox: OutboxRepository, dispatcher: EventDispatcher) -> None:
        self._db = db
        self._outbox = outbox
        self._dispatcher = dispatcher

    @contextmanager
    def __call__(self) -> Iterator[Transaction]:
        with self._db.transaction() as cursor:
            tx = Transaction(cursor)
            yield tx
            messages = self._outbox.add(cursor, tx.events)
        self._dispatcher.publish(messages)

    @contextmanager
    def one_statement(self, *events: BookingEvent) -> Iterator[OneStatement]:
        """A transaction that is a single statement, which writes ``events`` (``tx.outbox``)
        to the outbox itself; what it wrote is published after it."""
        with self._db.autocommit() as cursor:
            tx = OneStatement(cursor, self._outbox.batch(events))
            yield tx
        self._dispatcher.publish(tx.messages)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A transaction that changes nothing and emits nothing."""
        with self._db.transaction() as cursor:
            yield cursor
