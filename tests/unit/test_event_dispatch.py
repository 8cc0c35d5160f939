"""The fast path's ordering rule, with fakes for the producer and the outbox: a message is sent
only after every older unpublished event of its session, and otherwise waits (in order, for
a bounded time) or is left to the relay."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

import pytest

from chalicelib.adapters.outbox_repository import OutboxMessage
from chalicelib.services.event_dispatch import EventDispatcher


class FakeProducer:
    """Takes messages, delivers them when ``flush`` (or ``deliver``) says so."""

    def __init__(self) -> None:
        self.sent: list[UUID] = []
        self.recently_failed = False
        self._pending: list[tuple[UUID, Callable[[UUID, bool], None]]] = []
        self._lock = threading.Lock()

    def send(self, messages: Sequence[OutboxMessage], on_outcome: Callable[[UUID, bool], None]) -> list[UUID]:
        with self._lock:
            for message in messages:
                self.sent.append(message.event_id)
                self._pending.append((message.event_id, on_outcome))
        return [m.event_id for m in messages]

    def deliver(self, ok: bool = True) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for event_id, on_outcome in pending:
            on_outcome(event_id, ok)
        if not ok:
            self.recently_failed = True

    def poll(self, timeout_seconds: float) -> None:
        time.sleep(min(timeout_seconds, 0.005))

    def flush(self, timeout_seconds: float) -> int:
        self.deliver()
        return 0


class FakeOutbox:
    """The outbox's published state: what ``mark_published`` and other processes marked."""

    def __init__(self) -> None:
        self.unpublished: set[UUID] = set()
        self.marked: list[UUID] = []

    def mark_published(self, cur: object, event_ids: Sequence[UUID]) -> None:
        self.marked.extend(event_ids)
        self.unpublished.difference_update(event_ids)

    def still_unpublished(self, cur: object, event_ids: Sequence[UUID]) -> set[UUID]:
        return set(event_ids) & self.unpublished


class FakeDatabase:
    @contextmanager
    def autocommit(self) -> Iterator[None]:
        yield None


def message(session: str, waits_for: Sequence[UUID] = ()) -> OutboxMessage:
    return OutboxMessage(
        id=0, event_id=uuid.uuid4(), topic="t", key=session, payload={}, attempts=0, waits_for=tuple(waits_for)
    )


@pytest.fixture
def parts():
    producer, outbox = FakeProducer(), FakeOutbox()
    dispatcher = EventDispatcher(FakeDatabase(), outbox, producer, max_wait_seconds=0.3, mark_interval_seconds=0.005)  # type: ignore[arg-type]
    yield dispatcher, producer, outbox
    dispatcher.close(1)


def wait_until(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_a_message_with_nothing_older_unpublished_is_sent_at_once(parts):
    dispatcher, producer, outbox = parts
    first = message("s1")
    dispatcher.publish([first])
    assert producer.sent == [first.event_id]
    dispatcher.settle(1)
    assert outbox.marked == [first.event_id]


def test_a_message_behind_this_process_own_sent_event_goes_at_once(parts):
    dispatcher, producer, _ = parts
    first = message("s1")
    dispatcher.publish([first])
    second = message("s1", [first.event_id])
    dispatcher.publish([second])
    assert producer.sent == [first.event_id, second.event_id]


def test_a_message_behind_another_process_event_waits_until_that_one_is_published(parts):
    dispatcher, producer, outbox = parts
    elsewhere = uuid.uuid4()
    outbox.unpublished.add(elsewhere)
    behind = message("s1", [elsewhere])
    dispatcher.publish([behind])
    time.sleep(0.05)
    assert producer.sent == []
    outbox.unpublished.discard(elsewhere)  # the other process's mark lands
    assert wait_until(lambda: producer.sent == [behind.event_id])


def test_later_messages_of_a_waiting_session_queue_behind_it_in_order(parts):
    dispatcher, producer, outbox = parts
    elsewhere = uuid.uuid4()
    outbox.unpublished.add(elsewhere)
    second = message("s1", [elsewhere])
    third = message("s1", [elsewhere, second.event_id])
    other_session = message("s2")
    dispatcher.publish([second])
    dispatcher.publish([third])
    dispatcher.publish([other_session])
    assert producer.sent == [other_session.event_id]  # another session is never held back
    outbox.unpublished.discard(elsewhere)
    assert wait_until(lambda: len(producer.sent) == 3)
    assert producer.sent == [other_session.event_id, second.event_id, third.event_id]


def test_a_message_that_waits_too_long_is_left_to_the_relay_with_what_follows_it(parts):
    dispatcher, producer, outbox = parts
    stuck = uuid.uuid4()
    outbox.unpublished.add(stuck)
    behind = message("s1", [stuck])
    dispatcher.publish([behind])
    time.sleep(0.2)
    follower = message("s1", [stuck, behind.event_id])
    dispatcher.publish([follower])
    time.sleep(0.4)  # past the 0.3 s wait of the first
    outbox.unpublished.discard(stuck)
    time.sleep(0.1)
    assert producer.sent == []  # neither may be sent now: the relay sends both, in commit order


def test_too_many_older_unpublished_events_leave_the_message_to_the_relay(parts):
    dispatcher, producer, _ = parts
    dispatcher.publish([message("s1", [uuid.uuid4() for _ in range(17)])])
    dispatcher.settle(0.5)
    assert producer.sent == []


def test_after_a_failed_delivery_nothing_is_sent_and_waiting_messages_go_to_the_relay(parts):
    dispatcher, producer, outbox = parts
    first = message("s1")
    dispatcher.publish([first])
    elsewhere = uuid.uuid4()
    outbox.unpublished.add(elsewhere)
    waiting = message("s2", [elsewhere])
    dispatcher.publish([waiting])
    producer.deliver(ok=False)
    outbox.unpublished.discard(elsewhere)
    dispatcher.publish([message("s3")])
    time.sleep(0.05)
    assert producer.sent == [first.event_id]
    assert outbox.marked == []


class CallbackOnAnotherThread(FakeProducer):
    """Serves delivery reports on another thread while holding its own lock, as librdkafka
    does when the background thread polls or replaces the producer during a send."""

    def send(self, messages: Sequence[OutboxMessage], on_outcome: Callable[[UUID, bool], None]) -> list[UUID]:
        taken = super().send(messages, on_outcome)
        with self._lock:
            pending, self._pending = self._pending, []
            server = threading.Thread(target=lambda: [callback(e, True) for e, callback in pending])
            server.start()
            server.join(1)
            self.served_in_time = not server.is_alive()
        return taken


def test_delivery_reports_never_wait_for_a_request_that_is_sending():
    producer, outbox = CallbackOnAnotherThread(), FakeOutbox()
    dispatcher = EventDispatcher(FakeDatabase(), outbox, producer, max_wait_seconds=0.3, mark_interval_seconds=0.005)  # type: ignore[arg-type]
    try:
        first = message("s1")
        dispatcher.publish([first])
        assert producer.served_in_time, "the delivery report blocked on the dispatcher's lock"
        assert wait_until(lambda: outbox.marked == [first.event_id])
    finally:
        dispatcher.close(1)
