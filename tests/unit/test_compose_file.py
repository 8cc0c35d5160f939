"""docker-compose.yml, checked without Docker (this machine has no engine to run it).

It guards what the README promises users who have Docker: ``docker compose up -d --wait``
starts services that ``make run`` and ``make test`` then use as they are. So the file must be
valid against the Compose Specification (the copy check-jsonschema vendors from the
compose-spec project), and, read with ./.env as docker compose reads it, publish each service
on the port chalicelib/config.py's local services name, with Kafka advertising the address
the app connects to.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from chalicelib.config import LOCAL_SERVICES_FILE, _read_env_file, local_services

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def document() -> dict:
    """The file with ./.env's variables interpolated, as docker compose sees it."""
    variables = _read_env_file(LOCAL_SERVICES_FILE)
    text = re.sub(r"\$\{(\w+)\}", lambda match: variables[match[1]], COMPOSE_FILE.read_text())
    return yaml.safe_load(text)


def test_the_file_is_valid_against_the_compose_specification(document):
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_every_variable_it_uses_is_given_by_the_local_services_file():
    used = set(re.findall(r"\$\{(\w+)\}", COMPOSE_FILE.read_text()))
    assert used and used <= set(_read_env_file(LOCAL_SERVICES_FILE))


def test_each_service_is_published_on_loopback_at_its_local_port(document, monkeypatch):
    for name in ("CINEMA_PG_PORT", "CINEMA_REDIS_PORT", "CINEMA_KAFKA_PORT", "CINEMA_LOCALSTACK_PORT"):
        monkeypatch.delenv(name, raising=False)
    local = local_services()
    published = {
        service: {entry.rsplit(":", 1)[0] for entry in spec.get("ports", [])}
        for service, spec in document["services"].items()
    }
    assert published == {
        "postgres": {f"127.0.0.1:{local.pg_port}"},
        "redis": {f"127.0.0.1:{local.redis_port}"},
        "kafka": {f"127.0.0.1:{local.kafka_port}"},
        "localstack": {f"127.0.0.1:{local.localstack_port}"},
    }
    advertised = document["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"HOST://{local.kafka_bootstrap_servers}" in advertised.split(",")


def test_postgres_creates_the_role_and_both_databases():
    init = (COMPOSE_FILE.parent / "infra" / "compose" / "postgres-init.sql").read_text()
    assert "CREATE ROLE cinema LOGIN" in init
    assert "CREATE DATABASE cinema OWNER cinema;" in init
    assert "CREATE DATABASE cinema_test OWNER cinema;" in init
