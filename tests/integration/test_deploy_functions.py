"""What a deploy and the alarms rely on, against the real PostgreSQL and Kafka: the migrate
function (SQL migrations and the booking topics, idempotent) and the outbox's backlog, whose
oldest age the outbox-age alarm watches (its metric: tests/integration/test_observability.py)."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.admin import AdminClient

from chalicelib.adapters.outbox_repository import OutboxRepository
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


def test_the_outbox_backlog_counts_unpublished_events_and_ages_the_oldest_by_the_database_clock():
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
        waiting, age = OutboxRepository("age-test").backlog(cur)
        assert 1000 * 86400 <= age < 1000 * 86400 + 60
        assert waiting >= 1
        raise Rollback
