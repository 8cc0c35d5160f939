"""The booking topic and its dead-letter topic, created where they are missing.

Run by the ``migrate`` function on every deploy that changes the migrations (MSK does not
create topics through CloudFormation, and the brokers do not auto-create them), and safe to
run again: an existing topic is left as it is.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.kafka_auth import kafka_security_config
from chalicelib.config import Settings

PARTITIONS = 3


def booking_topics(settings: Settings) -> list[str]:
    return [settings.booking_topic, settings.dead_letter_topic]


def ensure_topics(settings: Settings, timeout_seconds: float = 30.0) -> list[str]:
    """Create the missing booking topics; returns the ones created."""
    from confluent_kafka.admin import AdminClient, NewTopic

    config: dict[str, Any] = {"bootstrap.servers": settings.kafka_bootstrap_servers, **kafka_security_config(settings)}
    admin = AdminClient(config)
    if "oauth_cb" in config:
        admin.poll(0)  # an admin client serves the token callback only from poll()
    existing = set(admin.list_topics(timeout=timeout_seconds).topics)
    missing = [
        NewTopic(topic, num_partitions=PARTITIONS, replication_factor=settings.kafka_replication_factor)
        for topic in booking_topics(settings)
        if topic not in existing
    ]
    created = []
    for topic, future in admin.create_topics(missing).items() if missing else []:
        try:
            future.result(timeout_seconds)
            created.append(topic)
        except Exception as exc:  # another creator won the race: the topic is there
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return created
