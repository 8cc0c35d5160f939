"""With the Kafka broker down, bookings still succeed; once it is back, the outbox relay
delivers every event, and none twice. Runs against a private broker it can stop."""

from __future__ import annotations

import shutil
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from chalicelib.adapters.kafka_topics import ensure_topics
from chalicelib.bootstrap import container, reset_container
from infra.services import PROJECT_ROOT, Layout, kafka_answers, kafka_libs, launch_kafka
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateBroker:
    def __init__(self) -> None:
        self.port, self.controller_port = _free_port(), _free_port()
        self.home = PROJECT_ROOT / ".local" / "test-kafka" / uuid.uuid4().hex[:8]
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        self.process = launch_kafka(self.home, kafka_libs(Layout.from_env()), self.port, self.controller_port, "384m")
        deadline = time.monotonic() + 120
        while True:
            try:
                if kafka_answers(self.bootstrap):
                    return
            except Exception:
                pass
            assert time.monotonic() < deadline, "private broker did not start"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


@pytest.fixture
def broker() -> Iterator[PrivateBroker]:
    server = PrivateBroker()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


def test_bookings_survive_a_broker_outage_and_every_event_arrives_once(api, broker, monkeypatch):
    prefix = f"outage-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("KAFKA_PUBLISH_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "2")
    reset_container()
    ensure_topics(container().settings)
    topic = container().settings.booking_topic

    session = api.new_session(totalSeats=60)
    seats = api.seats(session["id"])
    broker.stop()

    statuses = Counter(api.hold(session["id"], [seat["id"]], user=f"u{i}")[0] for i, seat in enumerate(seats[:50]))
    assert statuses == {201: 50}

    # The relay keeps failing while the broker is down; an outage never uses up the events'
    # attempts, so nothing is declared dead however long it lasts.
    from tests.helpers import db_execute, db_rows

    for _ in range(4):
        db_execute("UPDATE outbox SET next_attempt_at = now() WHERE message_key = %s", (session["id"],))
        result = container().relay.run_once(grace_seconds=0)
        assert result.published == 0 and result.dead == 0
    assert db_rows(
        "SELECT count(*) AS n FROM outbox WHERE message_key = %s AND dead_at IS NOT NULL", (session["id"],)
    ) == [{"n": 0}]

    broker.start()
    deadline = time.monotonic() + 90
    while True:
        db_execute("UPDATE outbox SET next_attempt_at = now() WHERE message_key = %s", (session["id"],))
        container().relay.drain(grace_seconds=0)
        pending = db_rows(
            "SELECT count(*) AS n FROM outbox WHERE message_key = %s AND published_at IS NULL", (session["id"],)
        )[0]["n"]
        if pending == 0:
            break
        assert time.monotonic() < deadline, f"{pending} events still unpublished"
        time.sleep(1)

    created = [m.event for m in read_topic(broker.bootstrap, topic) if m.event["type"] == "reservation.created"]
    assert len(created) == 50
    assert len({e["eventId"] for e in created}) == 50
