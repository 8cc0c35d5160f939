import json

import pytest

from chalicelib.config import (
    LOCAL_SERVICES_FILE,
    ConfigurationError,
    _read_env_file,
    local_services,
    parse_connection_secret,
    settings_from,
    with_credentials,
)


def test_without_addresses_the_settings_point_at_this_machine_s_services():
    settings = settings_from({})
    local = local_services({})
    assert settings.reservation_ttl_seconds == 30
    assert settings.database_url == local.database_url("cinema")
    assert settings.redis_url == local.redis_url(0)
    assert settings.kafka_bootstrap_servers == local.kafka_bootstrap_servers


def test_the_local_ports_come_from_the_env_file_unless_the_environment_says_otherwise():
    assert local_services({}).pg_port == int(_read_env_file(LOCAL_SERVICES_FILE)["CINEMA_PG_PORT"])
    assert local_services({"CINEMA_PG_PORT": "6000"}).database_url("x") == "postgresql://cinema:cinema@127.0.0.1:6000/x"


def test_topic_names_follow_the_prefix():
    settings = settings_from({"KAFKA_TOPIC_PREFIX": "acme"})
    assert (settings.booking_topic, settings.dead_letter_topic) == ("acme.booking-events", "acme.booking-events.dlq")


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


@pytest.mark.parametrize("stage", ["dev", "prod", "staging"])
def test_the_development_key_is_refused_outside_local_and_test(stage):
    with pytest.raises(ConfigurationError, match="development key"):
        settings_from({"STAGE": stage, "JWT_SECRET": "local-development-key", "JWT_ALGORITHMS": "HS256"})
    with pytest.raises(ConfigurationError, match="development key"):
        settings_from({"STAGE": stage, "JWT_ALGORITHMS": "RS256,HS256"})
    settings = settings_from({"STAGE": stage, "JWT_ALGORITHMS": "RS256", "JWT_JWKS_URL": "https://issuer/jwks.json"})
    assert settings.jwt_jwks_url == "https://issuer/jwks.json"


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_and_test_may_use_the_development_key(stage):
    settings = settings_from({"STAGE": stage, "JWT_SECRET": "k", "JWT_ALGORITHMS": "HS256"})
    assert settings.jwt_secret == "k"


def test_the_settings_document_may_carry_what_the_data_stack_decides():
    document = {
        "DATABASE_URL": "postgresql://proxy.example:5432/cinema?sslmode=require",
        "REDIS_URL": "rediss://cache.example:6379/0",
        "KAFKA_BOOTSTRAP_SERVERS": "b-1.example:9098",
        "KAFKA_AUTH": "aws_msk_iam",
        "KAFKA_REPLICATION_FACTOR": "2",
        "DB_POOL_MIN_SIZE": "1",
        "DB_POOL_MAX_SIZE": "1",
        "JWT_ISSUER": "https://issuer",
        "JWT_AUDIENCE": "client",
        "JWT_JWKS_URL": "https://issuer/.well-known/jwks.json",
    }
    settings = settings_from({"STAGE": "prod"}, parse_connection_secret(json.dumps(document), "secret s"))
    assert (settings.kafka_auth, settings.kafka_replication_factor) == ("aws_msk_iam", 2)
    assert (settings.db_pool_min_size, settings.db_pool_max_size) == (1, 1)
    assert settings.jwt_issuer == "https://issuer" and settings.jwt_audience == "client"


def test_database_credentials_go_into_the_url_escaped():
    url = with_credentials(
        "postgresql://proxy.example:5432/cinema?sslmode=require", {"username": "cinema", "password": "p@ss/w:rd"}
    )
    assert url == "postgresql://cinema:p%40ss%2Fw%3Ard@proxy.example:5432/cinema?sslmode=require"
