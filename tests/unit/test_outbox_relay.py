"""The relay's decisions, with a fake outbox and publisher: what is marked published, what waits
without losing an attempt (the broker is away), what counts an attempt, and what dies only
once its dead-letter copy is delivered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from chalicelib.adapters.kafka_publisher import DeliveryReport
from chalicelib.adapters.outbox_repository import OutboxMessage
from chalicelib.services.outbox_relay import OutboxRelay, RelayResult
from tests.unit.fakes import FakeDatabase

DLQ = "t.dlq"


def message(attempts: int = 0) -> OutboxMessage:
    return OutboxMessage(id=1, event_id=uuid.uuid4(), topic="t", key="s", payload={}, attempts=attempts)


class FakeOutbox:
    def __init__(self, due: Sequence[OutboxMessage] = ()) -> None:
        self.due = list(due)
        self.calls: list[tuple[str, object]] = []

    def claim_due(self, cur, *, limit, grace_seconds):
        batch, self.due = self.due[:limit], self.due[limit:]
        return batch

    def mark_published(self, cur, event_ids):
        self.calls.append(("published", set(event_ids)))

    def postpone(self, cur, message_id, error, retry_in_seconds):
        self.calls.append(("postponed", message_id))

    def record_failure(self, cur, message_id, error, retry_in_seconds):
        self.calls.append(("failed", message_id))

    def mark_dead(self, cur, message_id, error):
        self.calls.append(("dead", message_id))


class FakePublisher:
    """Delivers, refuses (the message's fault) or finds no broker, per event id and topic."""

    def __init__(self, refuse=(), unavailable=(), dlq_fails=False) -> None:
        self.refuse, self.unavailable, self.dlq_fails = set(refuse), set(unavailable), dlq_fails
        self.sent: list[tuple[str | None, list[uuid.UUID]]] = []

    def publish(self, messages, topic=None) -> DeliveryReport:
        self.sent.append((topic, [m.event_id for m in messages]))
        report = DeliveryReport()
        for m in messages:
            if topic == DLQ and self.dlq_fails:
                report.failed[m.event_id] = "dlq down"
                report.unavailable.add(m.event_id)
            elif topic != DLQ and m.event_id in self.unavailable:
                report.failed[m.event_id] = "no broker"
                report.unavailable.add(m.event_id)
            elif topic != DLQ and m.event_id in self.refuse:
                report.failed[m.event_id] = "record too large"
            else:
                report.delivered.append(m.event_id)
        return report


def relay(outbox: FakeOutbox, publisher: FakePublisher, batch_size: int = 10) -> OutboxRelay:
    return OutboxRelay(
        FakeDatabase(),  # type: ignore[arg-type]
        outbox,  # type: ignore[arg-type]
        publisher,  # type: ignore[arg-type]
        dead_letter_topic=DLQ,
        batch_size=batch_size,
        max_attempts=3,
        grace_seconds=0,
    )


def test_nothing_due_publishes_nothing():
    publisher = FakePublisher()
    assert relay(FakeOutbox(), publisher).run_once() == RelayResult(0, 0, 0)
    assert publisher.sent == []


def test_delivered_events_are_marked_published():
    batch = [message(), message()]
    outbox = FakeOutbox(batch)
    assert relay(outbox, FakePublisher()).run_once() == RelayResult(2, 0, 0)
    assert outbox.calls == [("published", {m.event_id for m in batch})]


def test_a_broker_outage_postpones_without_using_up_an_attempt():
    stuck = message(attempts=2)  # one more counted attempt would kill it
    outbox = FakeOutbox([stuck])
    assert relay(outbox, FakePublisher(unavailable={stuck.event_id})).run_once() == RelayResult(0, 1, 0)
    assert ("postponed", stuck.id) in outbox.calls and ("dead", stuck.id) not in outbox.calls


def test_a_refused_event_counts_an_attempt_then_dies_once_its_copy_is_on_the_dead_letter_topic():
    early, last = message(attempts=0), message(attempts=2)
    outbox = FakeOutbox([early, last])
    publisher = FakePublisher(refuse={early.event_id, last.event_id})
    assert relay(outbox, publisher).run_once() == RelayResult(0, 1, 1)
    assert ("failed", early.id) in outbox.calls and ("dead", last.id) in outbox.calls
    assert (DLQ, [last.event_id]) in publisher.sent


def test_an_event_never_dies_while_its_dead_letter_copy_is_not_delivered():
    last = message(attempts=2)
    outbox = FakeOutbox([last])
    result = relay(outbox, FakePublisher(refuse={last.event_id}, dlq_fails=True)).run_once()
    assert result == RelayResult(0, 1, 0)
    assert ("dead", last.id) not in outbox.calls and ("failed", last.id) in outbox.calls


@pytest.mark.parametrize(("failing", "expected_batches"), [(False, 3), (True, 1)])
def test_drain_goes_on_while_batches_publish_and_stops_at_a_failure(failing, expected_batches):
    batch = [message() for _ in range(5)]
    publisher = FakePublisher(unavailable={batch[0].event_id} if failing else ())
    relay(FakeOutbox(batch), publisher, batch_size=2).drain(grace_seconds=0)
    assert len(publisher.sent) == expected_batches
