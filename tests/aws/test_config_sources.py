"""Connection settings from Secrets Manager and SSM, through Powertools Parameters and moto.

In AWS the functions find DATABASE_URL, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS in the JSON
object that CONFIG_SECRET_NAME or CONFIG_PARAMETER_NAME names (the data stack's connection secret, or an
emulator stage's own secret in its app stack).
A missing or malformed one must stop the process at startup with a ConfigurationError
that says where it looked, never run with the local defaults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from chalicelib.bootstrap import reset_container
from chalicelib.config import ConfigurationError, get_settings

CONNECTIONS = {
    "DATABASE_URL": "postgresql://app:pw@cinema-db.cluster-abc.us-east-1.rds.amazonaws.com:5432/cinema",
    "REDIS_URL": "rediss://cinema-cache.abc.use1.cache.amazonaws.com:6379/0",
    "KAFKA_BOOTSTRAP_SERVERS": "b-1.cinema.abc.kafka.us-east-1.amazonaws.com:9094",
}


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("CONFIG_SECRET_NAME", "CONFIG_PARAMETER_NAME", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    parameters.clear_caches()
    get_settings.cache_clear()
    with mock_aws():
        yield
    # Later tests must not see these settings (nor Powertools' cached values).
    parameters.clear_caches()
    reset_container()


def test_settings_come_from_the_secrets_manager_secret(monkeypatch):
    boto3.client("secretsmanager").create_secret(
        Name="cinema-ticketing/dev/connections", SecretString=json.dumps(CONNECTIONS)
    )
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema-ticketing/dev/connections")
    monkeypatch.setenv("DATABASE_URL", "postgresql://ignored@127.0.0.1/x")  # the secret wins

    settings = get_settings()

    assert settings.database_url == CONNECTIONS["DATABASE_URL"]
    assert settings.redis_url == CONNECTIONS["REDIS_URL"]
    assert settings.kafka_bootstrap_servers == CONNECTIONS["KAFKA_BOOTSTRAP_SERVERS"]


def test_settings_come_from_the_ssm_securestring_parameter(monkeypatch):
    boto3.client("ssm").put_parameter(
        Name="/cinema-ticketing/test/connections", Value=json.dumps(CONNECTIONS), Type="SecureString"
    )
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", "/cinema-ticketing/test/connections")

    settings = get_settings()

    assert settings.database_url == CONNECTIONS["DATABASE_URL"]
    assert settings.redis_url == CONNECTIONS["REDIS_URL"]
    assert settings.kafka_bootstrap_servers == CONNECTIONS["KAFKA_BOOTSTRAP_SERVERS"]


def test_the_secret_is_read_once_per_process(monkeypatch):
    client = boto3.client("secretsmanager")
    client.create_secret(Name="cinema/cached", SecretString=json.dumps(CONNECTIONS))
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema/cached")
    first = get_settings()
    client.put_secret_value(
        SecretId="cinema/cached", SecretString=json.dumps({**CONNECTIONS, "REDIS_URL": "redis://x:1/0"})
    )
    assert get_settings() is first  # warm invocations reuse what the cold start read


def test_a_missing_secret_stops_startup_with_a_clear_error(monkeypatch):
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema-ticketing/dev/absent")
    with pytest.raises(
        ConfigurationError, match=r"cannot read connection settings from secret cinema-ticketing/dev/absent"
    ):
        get_settings()


def test_a_missing_parameter_stops_startup_with_a_clear_error(monkeypatch):
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", "/cinema-ticketing/test/absent")
    with pytest.raises(
        ConfigurationError, match=r"cannot read connection settings from SSM parameter /cinema-ticketing/test/absent"
    ):
        get_settings()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("postgresql://not-json", "is not valid JSON"),
        (json.dumps(["DATABASE_URL"]), "must be a JSON object"),
        (json.dumps({"DATABASE_URL": CONNECTIONS["DATABASE_URL"]}), "missing keys"),
        (json.dumps({**CONNECTIONS, "PASSWORD": "x"}), "unknown keys"),
        (json.dumps({**CONNECTIONS, "REDIS_URL": ""}), "non-empty strings"),
    ],
)
def test_a_malformed_secret_stops_startup_with_a_clear_error(monkeypatch, value, message):
    boto3.client("secretsmanager").create_secret(Name="cinema/bad", SecretString=value)
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema/bad")
    with pytest.raises(ConfigurationError, match=rf"secret cinema/bad .*{re.escape(message)}"):
        get_settings()


def test_a_malformed_parameter_stops_startup_with_a_clear_error(monkeypatch):
    boto3.client("ssm").put_parameter(Name="/cinema/bad", Value="{not json", Type="SecureString")
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", "/cinema/bad")
    with pytest.raises(ConfigurationError, match="SSM parameter /cinema/bad is not valid JSON"):
        get_settings()


def test_a_scheduled_function_fails_its_invocation_when_the_secret_is_missing(monkeypatch):
    """The failure reaches Lambda (so the async invocation is retried, then dead-lettered)."""
    from chalicelib.jobs.scheduled import expire_reservations
    from infra.scheduler import InvocationContext

    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema-ticketing/dev/absent")
    reset_container()
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-29T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/cinema-ticketing-dev-expire_reservations"],
        "detail": {},
    }
    with pytest.raises(ConfigurationError, match="cinema-ticketing/dev/absent"):
        expire_reservations(event, InvocationContext("expire_reservations"))


def test_the_database_password_comes_from_the_rds_managed_secret(monkeypatch):
    """The data stack's document names RDS's own secret instead of carrying a password."""
    client = boto3.client("secretsmanager")
    master = client.create_secret(
        Name="rds!cluster-0123", SecretString=json.dumps({"username": "cinema", "password": "r0t@ted/pw"})
    )["ARN"]
    document = {
        **CONNECTIONS,
        "DATABASE_URL": "postgresql://cinema-proxy.proxy-abc.us-east-1.rds.amazonaws.com:5432/cinema?sslmode=require",
        "DATABASE_SECRET_ARN": master,
        "KAFKA_AUTH": "aws_msk_iam",
    }
    client.create_secret(Name="cinema-ticketing/prod/connections", SecretString=json.dumps(document))
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema-ticketing/prod/connections")
    monkeypatch.setenv("STAGE", "prod")

    settings = get_settings()

    assert settings.database_url == (
        "postgresql://cinema:r0t%40ted%2Fpw@cinema-proxy.proxy-abc.us-east-1.rds.amazonaws.com:5432/cinema"
        "?sslmode=require"
    )
    assert settings.kafka_auth == "aws_msk_iam"


def test_a_missing_database_credentials_secret_stops_startup(monkeypatch):
    document = {**CONNECTIONS, "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!gone"}
    boto3.client("secretsmanager").create_secret(Name="cinema/creds", SecretString=json.dumps(document))
    monkeypatch.setenv("CONFIG_SECRET_NAME", "cinema/creds")
    with pytest.raises(ConfigurationError, match="cannot read the database credentials from secret arn:aws"):
        get_settings()
