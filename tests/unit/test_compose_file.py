"""docker-compose.yml, checked without Docker.

The file is validated against the official Compose Specification JSON schema (the copy
that the pinned check-jsonschema package vendors from the compose-spec project), and it
must publish the same host ports and create the same databases as the native path
(infra/services.py), which the app's defaults (chalicelib/config.py) point at.
"""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

from chalicelib.config import LOCAL_DATABASE_URL, LOCAL_KAFKA_BOOTSTRAP_SERVERS, LOCAL_REDIS_URL
from infra.services import Layout

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("postgres", "redis", "kafka", "localstack")


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    assert schema.get("title") == "Compose Specification"
    assert "services" in schema["properties"] and "service" in schema["$defs"]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def native_layout(monkeypatch) -> Layout:
    for name in ("CINEMA_PG_PORT", "CINEMA_REDIS_PORT", "CINEMA_KAFKA_PORT", "CINEMA_KAFKA_CONTROLLER_PORT"):
        monkeypatch.delenv(name, raising=False)
    return Layout.from_env()


def schema_errors(validator: Draft202012Validator, doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(doc)]


def published(service: dict) -> dict[int, tuple[str, int]]:
    """Container port -> (host ip, host port), from short-syntax "ip:host:container" entries."""
    result = {}
    for entry in service.get("ports", []):
        match = re.fullmatch(r"(?:(?P<ip>[\d.]+):)?(?P<host>\d+):(?P<container>\d+)(?:/tcp)?", str(entry))
        assert match, f"unexpected port syntax: {entry!r}"
        result[int(match["container"])] = (match["ip"] or "0.0.0.0", int(match["host"]))
    return result


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


# --------------------------------------------------------------------------- the schema


def test_file_is_valid_against_the_compose_specification(document, validator):
    assert schema_errors(validator, document) == []


def broken_copies() -> list:
    def typo_in_service_key(doc):
        doc["services"]["redis"]["healtcheck"] = doc["services"]["redis"].pop("healthcheck")

    def unknown_healthcheck_option(doc):
        doc["services"]["kafka"]["healthcheck"]["intervall"] = "10s"

    def ports_as_a_mapping(doc):
        doc["services"]["postgres"]["ports"] = {"54329": 5432}

    def services_as_a_list(doc):
        doc["services"] = list(doc["services"].values())

    def invalid_service_name(doc):
        doc["services"]["local stack"] = doc["services"].pop("localstack")

    def command_as_a_number(doc):
        doc["services"]["redis"]["command"] = 6379

    return [
        pytest.param(change, id=change.__name__)
        for change in (
            typo_in_service_key,
            unknown_healthcheck_option,
            ports_as_a_mapping,
            services_as_a_list,
            invalid_service_name,
            command_as_a_number,
        )
    ]


@pytest.mark.parametrize("change", broken_copies())
def test_a_broken_copy_fails_validation(document, validator, change):
    broken = copy.deepcopy(document)
    change(broken)
    assert schema_errors(validator, broken), "the schema accepted a broken document"


# --------------------------------------------------------------------------- same layout as the native path


def test_defines_the_four_services_with_pinned_images(document):
    services = document["services"]
    assert set(services) == set(SERVICES)
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["localstack"]["image"].startswith("localstack/localstack:")
    assert services["localstack"]["image"] not in ("localstack/localstack:latest", "localstack/localstack:stable")


def test_host_ports_match_the_native_path_and_the_app_defaults(document, native_layout):
    services = document["services"]
    assert native_layout.pg_port == 54329 == urlsplit(LOCAL_DATABASE_URL).port
    assert native_layout.redis_port == 63799 == urlsplit(LOCAL_REDIS_URL).port
    assert native_layout.kafka_port == 19092 == int(LOCAL_KAFKA_BOOTSTRAP_SERVERS.rpartition(":")[2])

    assert published(services["postgres"]) == {5432: ("127.0.0.1", native_layout.pg_port)}
    assert published(services["redis"]) == {6379: ("127.0.0.1", native_layout.redis_port)}
    assert published(services["kafka"]) == {native_layout.kafka_port: ("127.0.0.1", native_layout.kafka_port)}
    assert published(services["localstack"]) == {4566: ("127.0.0.1", 4566)}


def test_kafka_advertises_the_host_address_the_app_uses(document, native_layout):
    env = environment(document["services"]["kafka"])
    listeners = dict(item.split("://", 1) for item in env["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://", 1) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    protocols = dict(item.split(":", 1) for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))

    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    host_listener = next(
        (name for name, address in advertised.items() if address == LOCAL_KAFKA_BOOTSTRAP_SERVERS), None
    )
    assert host_listener, f"no listener is advertised as {LOCAL_KAFKA_BOOTSTRAP_SERVERS}"
    assert listeners[host_listener].endswith(f":{native_layout.kafka_port}")
    assert protocols[host_listener] == "PLAINTEXT"

    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller not in advertised, "the controller listener must stay internal"
    controller_port = int(listeners[controller].rpartition(":")[2])
    assert controller_port not in published(document["services"]["kafka"])
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert set(listeners) == set(protocols)
    assert env["KAFKA_NUM_PARTITIONS"] == "3"


def test_postgres_creates_the_role_and_both_databases(document):
    service = document["services"]["postgres"]
    url = urlsplit(LOCAL_DATABASE_URL)
    init_mounts = [v for v in service["volumes"] if v.split(":")[1].startswith("/docker-entrypoint-initdb.d/")]
    assert len(init_mounts) == 1
    script = ROOT / init_mounts[0].split(":")[0]
    assert script.is_file() and script.parent == ROOT / "infra" / "compose"

    sql = " ".join(script.read_text().split())
    assert f"CREATE ROLE {url.username} LOGIN PASSWORD '{url.password}';" in sql
    for database in (url.path.lstrip("/"), "cinema_test"):
        assert f"CREATE DATABASE {database} OWNER {url.username};" in sql


def test_every_service_has_a_healthcheck(document):
    for name in SERVICES:
        check = document["services"][name].get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False)
        assert isinstance(check["test"], list) and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check.get("interval") and check.get("retries"), name


def test_data_lives_in_declared_named_volumes(document):
    declared = set(document.get("volumes") or {})
    for name in SERVICES:
        sources = {v.split(":")[0] for v in document["services"][name].get("volumes", [])}
        named = {s for s in sources if not s.startswith(("/", "."))}
        assert named, f"{name} keeps no data in a named volume"
        assert named <= declared, f"{name} uses undeclared volumes {named - declared}"
