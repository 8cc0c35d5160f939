import json

import pytest

from chalicelib.config import ConfigurationError, parse_connection_secret, settings_from


def test_defaults_point_at_the_local_stack():
    settings = settings_from({})
    assert settings.reservation_ttl_seconds == 30
    assert "54329" in settings.database_url
    assert settings.redis_url.endswith(":63799/0")


def test_environment_overrides_are_typed():
    settings = settings_from({"RESERVATION_TTL_SECONDS": "5", "MAX_SEATS_PER_RESERVATION": "4"})
    assert settings.reservation_ttl_seconds == 5
    assert settings.max_seats_per_reservation == 4


def test_settings_are_frozen():
    settings = settings_from({})
    with pytest.raises(Exception):
        settings.reservation_ttl_seconds = 1  # type: ignore[misc]


def test_bad_values_fail_at_startup_with_a_clear_message():
    with pytest.raises(ConfigurationError, match="reservation_ttl_seconds"):
        settings_from({"RESERVATION_TTL_SECONDS": "soon"})


def test_connection_secret_overrides_environment():
    secret = {"DATABASE_URL": "postgresql://a/b", "REDIS_URL": "redis://r:1/0", "KAFKA_BOOTSTRAP_SERVERS": "k:9092"}
    settings = settings_from({"DATABASE_URL": "postgresql://ignored/x"}, secret)
    assert settings.database_url == "postgresql://a/b"
    assert settings.kafka_bootstrap_servers == "k:9092"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"DATABASE_URL": "x"}), "missing keys"),
        (json.dumps({"DATABASE_URL": "x", "REDIS_URL": "y", "KAFKA_BOOTSTRAP_SERVERS": "z", "EXTRA": "1"}), "unknown"),
        (json.dumps({"DATABASE_URL": "", "REDIS_URL": "y", "KAFKA_BOOTSTRAP_SERVERS": "z"}), "non-empty"),
    ],
)
def test_malformed_connection_secret_is_a_clear_error(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_connection_secret(raw, "secret test")
