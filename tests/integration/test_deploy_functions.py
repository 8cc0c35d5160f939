"""What a deploy and the alarms rely on, against the real PostgreSQL and Kafka: the migrate
function (SQL migrations and the booking topics, idempotent) and the outbox age the relay
reports as a CloudWatch embedded metric."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka.admin import AdminClient

from chalicelib.adapters.outbox_age import oldest_pending_age_seconds
from chalicelib.bootstrap import container, reset_container


@pytest.fixture
def own_prefix(monkeypatch) -> str:
    prefix = f"deploy-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    reset_container()
    yield prefix
    admin = AdminClient({"bootstrap.servers": container().settings.kafka_bootstrap_servers})
    for future in admin.delete_topics([f"{prefix}.booking-events", f"{prefix}.booking-events.dlq"]).values():
        future.result(15)


def test_migrate_creates_the_topics_once_and_applies_nothing_twice(chalice_client, own_prefix):
    first = chalice_client.lambda_.invoke("migrate", {}).payload
    assert first["topicsCreated"] == [f"{own_prefix}.booking-events", f"{own_prefix}.booking-events.dlq"]
    assert first["applied"] == []  # make test migrated cinema_test already
    again = chalice_client.lambda_.invoke("migrate", {}).payload
    assert again == {"applied": [], "topicsCreated": []}
    topics = AdminClient({"bootstrap.servers": container().settings.kafka_bootstrap_servers}).list_topics(timeout=10)
    assert len(topics.topics[f"{own_prefix}.booking-events"].partitions) == 3


class Rollback(Exception):
    pass


def test_the_outbox_age_is_the_oldest_unpublished_event_by_the_database_clock():
    """Measured inside a transaction that is rolled back: the shared outbox is left alone. The
    rows are older than anything other tests leave unpublished; published and dead-lettered
    rows, older still, do not count."""
    with pytest.raises(Rollback), container().db.transaction() as cur:
        for age, published, dead in (
            ("1000 days", None, None),
            ("2000 days", "now()", None),
            ("3000 days", None, "now()"),
        ):
            cur.execute(
                f"""
                INSERT INTO outbox
                    (event_id, event_type, topic, message_key, payload, created_at, published_at, dead_at)
                VALUES (%s, 'reservation.created', 'age-test', 'k', '{{}}', now() - interval '{age}',
                        {published or "NULL"}, {dead or "NULL"})
                """,
                (uuid.uuid4(),),
            )
        age = oldest_pending_age_seconds(cur)
        assert 1000 * 86400 <= age < 1000 * 86400 + 60
        raise Rollback


def test_the_relay_reports_the_outbox_age_as_an_embedded_metric_in_lambda(chalice_client, monkeypatch, capsys):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "cinema-ticketing-test-relay_outbox")
    reset_container()
    event = chalice_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/relay"]
    )
    capsys.readouterr()
    result = chalice_client.lambda_.invoke("relay_outbox", event).payload
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [metric] = [line for line in lines if "OutboxOldestPendingAge" in line]
    [directive] = metric["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CinemaTicketing"
    # The dimensions the app stack's OutboxAgeAlarm names.
    assert directive["Dimensions"] == [["stage", "service"]]
    assert (metric["stage"], metric["service"]) == (container().settings.stage, "cinema-ticketing")
    assert directive["Metrics"] == [{"Name": "OutboxOldestPendingAge", "Unit": "Seconds"}]
    assert metric["OutboxOldestPendingAge"] == [result["outboxAgeSeconds"]] and result["outboxAgeSeconds"] >= 0


def test_outside_lambda_the_relay_emits_no_metric(chalice_client, monkeypatch, capsys):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    reset_container()
    event = chalice_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/relay"]
    )
    capsys.readouterr()
    chalice_client.lambda_.invoke("relay_outbox", event)
    assert "OutboxOldestPendingAge" not in capsys.readouterr().out
