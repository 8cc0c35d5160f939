"""A consumer's batches, with a fake database and projection: a batch is one transaction; a
record of its own failing sends the batch one record at a time so only that record is
dead-lettered; an outage stops the batch and says which records are done."""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.events import BookingEvent, EventType
from chalicelib.services.projections import BatchInterrupted, EventConsumer, Outcome, RawRecord
from tests.unit.fakes import FakeDatabase


def record(offset: int, value: bytes | None = None) -> RawRecord:
    if value is None:
        event = BookingEvent(EventType.RESERVATION_CREATED, uuid.uuid4(), uuid.uuid4(), (uuid.uuid4(),), "u")
        value = json.dumps(event.envelope()).encode()
    return RawRecord(topic="t", partition=0, offset=offset, key=b"k", value=value)


class FakeProjection:
    name = "fake"

    def __init__(self, fail_on=(), outage_on=()) -> None:
        self.fail_on, self.outage_on = set(fail_on), set(outage_on)
        self.applied: set[uuid.UUID] = set()
        self.calls: list[int] = []

    def apply(self, cur, events):
        self.calls.append(len(events))
        ids = {e.event_id for e in events}
        if ids & self.outage_on:
            raise Unavailable("database unavailable")
        if ids & self.fail_on:
            raise ValueError("cannot apply this event")
        fresh = ids - self.applied
        self.applied |= fresh
        return fresh


class FakePublisher:
    def __init__(self) -> None:
        self.dead_letters: list[bytes | None] = []

    def send_now(self, topic, key, value, headers):
        self.dead_letters.append(value)


def event_id(raw: RawRecord) -> uuid.UUID:
    return uuid.UUID(json.loads(raw.value)["eventId"])


def consumer(projection: FakeProjection) -> tuple[EventConsumer, FakeDatabase, FakePublisher]:
    db, publisher = FakeDatabase(), FakePublisher()
    return EventConsumer(db, projection, publisher, sleep=lambda _: None), db, publisher  # type: ignore[arg-type]


def test_a_batch_is_applied_in_one_transaction():
    projection = FakeProjection()
    subject, db, _ = consumer(projection)
    assert subject.handle_batch([record(0), record(1), record(2)]) == [Outcome.APPLIED] * 3
    assert db.committed == 1 and projection.calls == [3]


def test_an_event_delivered_twice_in_one_batch_is_applied_once():
    projection = FakeProjection()
    subject, _, _ = consumer(projection)
    first = record(0)
    again = RawRecord(topic="t", partition=0, offset=1, key=b"k", value=first.value)
    assert subject.handle_batch([first, again]) == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_a_record_that_fails_sends_the_batch_one_by_one_and_only_it_is_dead_lettered():
    records = [record(0), record(1), record(2)]
    projection = FakeProjection(fail_on={event_id(records[1])})
    subject, db, publisher = consumer(projection)
    outcomes = subject.handle_batch(records)
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert publisher.dead_letters == [records[1].value]
    assert db.rolled_back == 1 + 3  # the batch, then the failing record's three attempts


def test_an_undecodable_record_is_dead_lettered_at_once():
    records = [record(0), record(1, b"{not an event"), record(2)]
    subject, _, publisher = consumer(FakeProjection())
    assert subject.handle_batch(records) == [Outcome.APPLIED, Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert publisher.dead_letters == [b"{not an event"]


def test_an_outage_in_the_batch_transaction_completes_nothing():
    records = [record(0), record(1)]
    subject, _, publisher = consumer(FakeProjection(outage_on={event_id(records[1])}))
    with pytest.raises(BatchInterrupted) as interrupted:
        subject.handle_batch(records)
    assert interrupted.value.completed == [] and publisher.dead_letters == []


def test_an_outage_one_by_one_says_which_records_are_done():
    records = [record(0), record(1, b"{not an event"), record(2)]
    subject, _, publisher = consumer(FakeProjection(outage_on={event_id(records[2])}))
    with pytest.raises(BatchInterrupted) as interrupted:
        subject.handle_batch(records)
    assert interrupted.value.completed == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert publisher.dead_letters == [b"{not an event"]
