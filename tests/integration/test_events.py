"""Events through the transactional outbox to the real Kafka broker, and the consumers
(metrics projection, audit trail) that read them back."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.kafka_topics import ensure_topics
from chalicelib.bootstrap import container, reset_container
from chalicelib.jobs.consumers import ConsumerLoop, handle_msk_event, loop_for
from chalicelib.services.projections import Outcome
from tests.helpers import db_rows
from tests.kafka_helpers import produce_raw, read_topic


@pytest.fixture
def topic(monkeypatch) -> str:
    """A topic (and DLQ) of this test's own, so counts are exact."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("RESERVATION_TTL_SECONDS", "2")
    reset_container()
    ensure_topics(container().settings)
    return container().settings.booking_topic


def publish_everything() -> None:
    """Let the fast path's deliveries finish and be marked, then have the relay send what it
    left (with no grace period, so nothing waits for the next tick)."""
    container().dispatcher.settle()
    container().relay.drain(grace_seconds=0)


def bootstrap() -> str:
    return container().settings.kafka_bootstrap_servers


def session_events(topic: str, session_id: str):
    return [m for m in read_topic(bootstrap(), topic) if m.key == session_id]


def run_flow(api):
    """create, hold, cancel, hold, pay, and let one expire."""
    session = api.new_session(ticketPrice="12.50")
    seats = api.seats(session["id"])
    _, cancelled, _ = api.hold(session["id"], [seats[0]["id"]], user="ana")
    assert api.delete(f"/reservations/{cancelled['id']}")[0] == 204
    _, paid, _ = api.hold(session["id"], [seats[0]["id"], seats[1]["id"]], user="ana")
    assert api.post("/sales", {"reservationId": paid["id"]})[0] == 201
    _, lapsed, _ = api.hold(session["id"], [seats[2]["id"]], user="bia")
    time.sleep(2.1)
    assert container().expiry.sweep() >= 1
    publish_everything()
    return session, cancelled, paid, lapsed


def test_exactly_one_event_per_state_change(api, topic):
    session, cancelled, paid, lapsed = run_flow(api)
    delivered = session_events(topic, session["id"])
    events = [m.event for m in delivered]
    assert len({e["eventId"] for e in events}) == len(events), "an event was delivered twice"
    assert Counter(e["type"] for e in events) == {
        "reservation.created": 3,
        "reservation.cancelled": 1,
        "seat.released": 2,
        "sale.confirmed": 1,
        "reservation.expired": 1,
    }
    per_reservation = Counter((e["reservationId"], e["type"]) for e in events)
    assert per_reservation[(lapsed["id"], "reservation.expired")] == 1
    assert per_reservation[(cancelled["id"], "reservation.cancelled")] == 1
    sale = next(e for e in events if e["type"] == "sale.confirmed")
    assert sale["amount"] == "25.00" and sale["reservationId"] == paid["id"] and len(sale["seatIds"]) == 2
    assert all(m.headers["eventId"] == m.event["eventId"] for m in delivered)
    assert {e["version"] for e in events} == {1}
    # Everything the outbox holds for this session was published, and each row once.
    rows = db_rows("SELECT published_at FROM outbox WHERE message_key = %s", (session["id"],))
    assert len(rows) == len(events) and all(r["published_at"] for r in rows)


def test_events_of_a_session_reach_kafka_in_commit_order(api, topic):
    session, *_ = run_flow(api)
    delivered = session_events(topic, session["id"])
    assert len({m.partition for m in delivered}) == 1  # keyed by session
    kafka_order = [m.event["eventId"] for m in sorted(delivered, key=lambda m: m.offset)]
    commit_order = [
        str(r["event_id"])
        for r in db_rows("SELECT event_id FROM outbox WHERE message_key = %s ORDER BY id", (session["id"],))
    ]
    assert kafka_order == commit_order


def test_consumers_apply_in_order_and_redelivery_changes_nothing(api, topic):
    session, _cancelled, paid, lapsed = run_flow(api)
    group = f"test-{uuid.uuid4()}"
    metrics = loop_for("metrics", group_id=group).run(idle_exit_seconds=3, max_seconds=60)
    audit = loop_for("audit", group_id=group + "-audit").run(idle_exit_seconds=3, max_seconds=60)
    assert metrics[Outcome.APPLIED] >= 8 and audit[Outcome.APPLIED] >= 8

    status, before, _ = api.get(f"/sessions/{session['id']}/metrics")
    assert status == 200
    assert before["lifetime"]["reservationsCreated"] == 3
    assert before["lifetime"]["sales"] == 1 and before["lifetime"]["seatsSold"] == 2
    assert before["lifetime"]["revenue"] == "25.00"

    # Deliver the very same messages again (a consumer restart from old offsets).
    again = ConsumerLoop(container().metrics_consumer, bootstrap(), topic, group_id=f"replay-{uuid.uuid4()}")
    replay = again.run(idle_exit_seconds=3, max_seconds=60)
    assert replay[Outcome.APPLIED] == 0 and replay[Outcome.DUPLICATE] >= 8
    assert api.get(f"/sessions/{session['id']}/metrics")[1] == before

    status, history, _ = api.get(f"/reservations/{paid['id']}/events")
    assert status == 200
    assert [h["type"] for h in history] == ["reservation.created", "sale.confirmed"]
    assert [h["type"] for h in api.get(f"/reservations/{lapsed['id']}/events")[1]] == [
        "reservation.created",
        "reservation.expired",
        "seat.released",
    ]


def test_spec_example_ten_holds_five_payments(api, topic):
    session = api.new_session(ticketPrice="25.00")
    seats = api.seats(session["id"])
    reservations = [api.hold(session["id"], [seat["id"]], user=f"fan{i}")[1] for i, seat in enumerate(seats[:10])]
    for reservation in reservations[:5]:
        assert api.post("/sales", {"reservationId": reservation["id"]})[0] == 201
    publish_everything()
    loop_for("metrics", group_id=f"spec-{uuid.uuid4()}").run(idle_exit_seconds=3, max_seconds=60)

    status, metrics, _ = api.get(f"/sessions/{session['id']}/metrics")
    assert status == 200
    lifetime = metrics["lifetime"]
    assert lifetime["reservationsCreated"] == 10
    assert lifetime["sales"] == 5 and lifetime["seatsSold"] == 5
    assert lifetime["conversionRate"] == "50.00"
    assert lifetime["revenue"] == "125.00"
    today = datetime.now(UTC).date().isoformat()
    assert [d["date"] for d in metrics["daily"]] == [today]
    assert metrics["daily"][0]["seatsSold"] == 5

    status, overall, _ = api.get("/metrics")
    assert status == 200
    mine = next(s for s in overall["sessions"] if s["sessionId"] == session["id"])
    assert mine["seatsSold"] == 5 and mine["conversionRate"] == "50.00"
    top = overall["topSessions"]
    assert 1 <= len(top) <= 5
    assert [s["seatsSold"] for s in top] == sorted((s["seatsSold"] for s in top), reverse=True)
    assert top[-1]["seatsSold"] >= 5 or session["id"] in {s["sessionId"] for s in top}
    assert int(overall["totals"]["seatsSold"]) >= 5


def test_metrics_of_unknown_session_is_404(api, topic):
    assert api.get(f"/sessions/{uuid.uuid4()}/metrics")[0] == 404
    assert api.get("/sessions/nope/metrics")[0] == 400


def test_poison_message_goes_to_the_dlq_and_consumption_continues(api, topic):
    session = api.new_session()
    seats = api.seats(session["id"])
    api.hold(session["id"], [seats[0]["id"]])
    produce_raw(bootstrap(), topic, session["id"].encode(), b"{this is not an event")
    api.hold(session["id"], [seats[1]["id"]])
    publish_everything()

    outcomes = loop_for("metrics", group_id=f"poison-{uuid.uuid4()}").run(idle_exit_seconds=3, max_seconds=60)
    assert outcomes[Outcome.DEAD_LETTERED] == 1
    assert outcomes[Outcome.APPLIED] == 2
    dead = read_topic(bootstrap(), f"{topic}.dlq")
    assert [m.raw for m in dead] == [b"{this is not an event"]
    assert dead[0].headers["consumer"] == "metrics" and "malformed" in dead[0].headers["error"]
    assert api.get(f"/sessions/{session['id']}/metrics")[1]["lifetime"]["reservationsCreated"] == 2


def test_msk_lambda_handler_applies_records_once(api, topic, chalice_client):
    import base64
    import json

    session = api.new_session()
    _, reservation, _ = api.hold(session["id"], [api.seats(session["id"])[0]["id"]])
    event_row = db_rows("SELECT payload FROM outbox WHERE payload->>'reservationId' = %s", (reservation["id"],))[0][
        "payload"
    ]
    value = base64.b64encode(json.dumps(event_row).encode()).decode()
    msk_event = {
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/cinema/abc",
        "bootstrapServers": bootstrap(),
        "records": {
            f"{topic}-0": [
                {
                    "topic": topic,
                    "partition": 0,
                    "offset": 7,
                    "timestamp": 1_700_000_000_000,
                    "timestampType": "CREATE_TIME",
                    "key": base64.b64encode(session["id"].encode()).decode(),
                    "value": value,
                    "headers": [{"eventId": list(event_row["eventId"].encode())}],
                }
            ]
        },
    }
    first = chalice_client.lambda_.invoke("metrics_consumer", msk_event).payload
    second = handle_msk_event(container().metrics_consumer, msk_event)
    assert first == {"applied": 1} and second == {"duplicate": 1}
    assert api.get(f"/sessions/{session['id']}/metrics")[1]["lifetime"]["reservationsCreated"] == 1


def test_a_batch_with_a_poison_record_applies_the_others_once(api, topic):
    import base64
    import json

    session = api.new_session()
    seats = api.seats(session["id"])
    held = [api.hold(session["id"], [seat["id"]])[1] for seat in seats[:2]]
    payloads = [
        db_rows("SELECT payload FROM outbox WHERE payload->>'reservationId' = %s", (r["id"],))[0]["payload"]
        for r in held
    ]
    values = [json.dumps(payloads[0]).encode(), b"{not an event", json.dumps(payloads[0]).encode()]
    values.append(json.dumps(payloads[1]).encode())
    record = {"topic": topic, "partition": 0, "timestampType": "CREATE_TIME", "timestamp": 1_700_000_000_000}
    msk_event = {
        "eventSource": "aws:kafka",
        "records": {
            f"{topic}-0": [
                {
                    **record,
                    "offset": offset,
                    "key": base64.b64encode(session["id"].encode()).decode(),
                    "value": base64.b64encode(value).decode(),
                }
                for offset, value in enumerate(values)
            ]
        },
    }

    outcomes = handle_msk_event(container().metrics_consumer, msk_event)

    assert outcomes == {"applied": 2, "dead-lettered": 1, "duplicate": 1}
    assert api.get(f"/sessions/{session['id']}/metrics")[1]["lifetime"]["reservationsCreated"] == 2
    assert [m.raw for m in read_topic(bootstrap(), f"{topic}.dlq")] == [b"{not an event"]
    again = handle_msk_event(container().metrics_consumer, {**msk_event, "records": {f"{topic}-0": []}})
    assert again == {}
    replayed = handle_msk_event(
        container().metrics_consumer,
        {**msk_event, "records": {f"{topic}-0": [msk_event["records"][f"{topic}-0"][i] for i in (0, 3)]}},
    )
    assert replayed == {"duplicate": 2}
    assert api.get(f"/sessions/{session['id']}/metrics")[1]["lifetime"]["reservationsCreated"] == 2


def msk_event_of(topic: str, key: str, values: list[bytes]) -> dict:
    import base64

    return {
        "eventSource": "aws:kafka",
        "records": {
            f"{topic}-0": [
                {
                    "topic": topic,
                    "partition": 0,
                    "offset": offset,
                    "timestamp": 1_700_000_000_000,
                    "timestampType": "CREATE_TIME",
                    "key": base64.b64encode(key.encode()).decode(),
                    "value": base64.b64encode(value).decode(),
                }
                for offset, value in enumerate(values)
            ]
        },
    }


def held_event_payloads(api, count: int) -> tuple[str, list[dict]]:
    session = api.new_session()
    seats = api.seats(session["id"])
    held = [api.hold(session["id"], [seat["id"]])[1] for seat in seats[:count]]
    payloads = [
        db_rows("SELECT payload FROM outbox WHERE payload->>'reservationId' = %s", (r["id"],))[0]["payload"]
        for r in held
    ]
    return session["id"], payloads


def test_a_record_failing_inside_the_batch_transaction_leaves_the_others_applied_once(api, topic, monkeypatch):
    import json

    session_id, payloads = held_event_payloads(api, 3)
    consumer = container().metrics_consumer
    failing = payloads[1]["eventId"]
    apply = consumer.projection.apply

    def apply_or_fail(cur, events):
        applied = apply(cur, events)  # the others' work is in the batch transaction when this raises
        if any(str(event.event_id) == failing for event in events):
            raise ValueError("this event cannot be applied")
        return applied

    monkeypatch.setattr(consumer.projection, "apply", apply_or_fail)
    values = [json.dumps(p).encode() for p in payloads]

    outcomes = handle_msk_event(consumer, msk_event_of(topic, session_id, values))

    assert outcomes == {"applied": 2, "dead-lettered": 1}
    assert api.get(f"/sessions/{session_id}/metrics")[1]["lifetime"]["reservationsCreated"] == 2
    assert [json.loads(m.raw)["eventId"] for m in read_topic(bootstrap(), f"{topic}.dlq")] == [failing]


def test_an_outage_part_way_through_a_batch_reports_what_is_done(api, topic, monkeypatch):
    import json

    from chalicelib.domain.errors import Unavailable
    from chalicelib.jobs.consumers import records_of_msk_event
    from chalicelib.services.projections import BatchInterrupted

    session_id, payloads = held_event_payloads(api, 2)
    consumer = container().metrics_consumer
    apply = consumer.projection.apply
    outage = {"left": 1}

    def apply_during_an_outage(cur, events):
        if any(str(event.event_id) == payloads[1]["eventId"] for event in events) and outage["left"]:
            outage["left"] -= 1
            raise Unavailable("database unavailable")
        return apply(cur, events)

    monkeypatch.setattr(consumer.projection, "apply", apply_during_an_outage)
    values = [json.dumps(payloads[0]).encode(), b"{not an event", json.dumps(payloads[1]).encode()]
    records = records_of_msk_event(msk_event_of(topic, session_id, values))

    with pytest.raises(BatchInterrupted) as interrupted:
        consumer.handle_batch(records)

    assert interrupted.value.completed == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert consumer.handle_batch(records[len(interrupted.value.completed) :]) == [Outcome.APPLIED]
    assert [m.raw for m in read_topic(bootstrap(), f"{topic}.dlq")] == [b"{not an event"]
    assert api.get(f"/sessions/{session_id}/metrics")[1]["lifetime"]["reservationsCreated"] == 2


def test_the_local_loop_commits_what_it_applied(api, topic):
    session = api.new_session()
    seats = api.seats(session["id"])
    for seat in seats[:3]:
        api.hold(session["id"], [seat["id"]])
    publish_everything()
    group = f"offsets-{uuid.uuid4()}"

    first = loop_for("metrics", group_id=group).run(idle_exit_seconds=3, max_seconds=60)
    again = loop_for("metrics", group_id=group).run(idle_exit_seconds=3, max_seconds=60)

    assert first[Outcome.APPLIED] == 3
    assert sum(again.values()) == 0  # nothing comes again: the offsets were committed on the way out


def test_the_local_loop_resumes_after_an_outage_without_dead_lettering_twice(api, topic, monkeypatch):
    from chalicelib.domain.errors import Unavailable

    session = api.new_session()
    seats = api.seats(session["id"])
    api.hold(session["id"], [seats[0]["id"]])
    produce_raw(bootstrap(), topic, session["id"].encode(), b"{not an event")
    _, last, _ = api.hold(session["id"], [seats[1]["id"]])
    publish_everything()
    consumer = container().metrics_consumer
    apply = consumer.projection.apply
    outage = {"left": 1}

    def apply_during_an_outage(cur, events):
        if any(str(event.reservation_id) == last["id"] for event in events) and outage["left"]:
            outage["left"] -= 1
            raise Unavailable("database unavailable")
        return apply(cur, events)

    monkeypatch.setattr(consumer.projection, "apply", apply_during_an_outage)

    outcomes = loop_for("metrics", group_id=f"outage-{uuid.uuid4()}").run(idle_exit_seconds=3, max_seconds=60)

    assert outage["left"] == 0
    assert outcomes == {Outcome.APPLIED: 2, Outcome.DEAD_LETTERED: 1}
    assert [m.raw for m in read_topic(bootstrap(), f"{topic}.dlq")] == [b"{not an event"]
    assert api.get(f"/sessions/{session['id']}/metrics")[1]["lifetime"]["reservationsCreated"] == 2
