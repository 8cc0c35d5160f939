"""The only module that reads the environment.

Everything the code needs to know about where it runs is collected here into one
frozen ``Settings`` object. Locally the services' ports come from ``./.env`` (the file docker
compose reads too), through ``local_services``. In AWS the connection secrets (database, Redis and Kafka
addresses) are not baked into the function's environment: ``CONFIG_SECRET_NAME`` or
``CONFIG_PARAMETER_NAME`` names a Secrets Manager secret or an SSM parameter holding a
JSON object, read once per process through Powertools Parameters (which caches it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVICES_FILE = PROJECT_ROOT / ".env"
LOCAL_HOST = "127.0.0.1"

# Keys a connection secret must carry; anything else in it is a mistake worth reporting.
SECRET_KEYS = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")
# Keys it may carry as well: what the environment's data stack decides (the database
# credentials' secret, pool sizes for RDS Proxy, Kafka authentication, the OIDC issuer).
OPTIONAL_SECRET_KEYS = (
    "DATABASE_SECRET_ARN",
    "DB_POOL_MIN_SIZE",
    "DB_POOL_MAX_SIZE",
    "KAFKA_AUTH",
    "KAFKA_REPLICATION_FACTOR",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_JWKS_URL",
)
# Stages where the HS256 development key may sign and verify tokens.
DEVELOPMENT_STAGES = ("local", "test")


class ConfigurationError(RuntimeError):
    """The process cannot start because its configuration is missing or malformed."""


@dataclass(frozen=True)
class LocalServices:
    """This machine's PostgreSQL, Redis, Kafka and LocalStack (make run, make test, docker
    compose): the ports of ./.env, each overridable by its variable (CINEMA_PG_PORT, ...)."""

    pg_port: int
    redis_port: int
    kafka_port: int
    kafka_controller_port: int
    localstack_port: int

    def database_url(self, database: str = "cinema", user: str = "cinema") -> str:
        credentials = "postgres" if user == "postgres" else f"{user}:{user}"
        return f"postgresql://{credentials}@{LOCAL_HOST}:{self.pg_port}/{database}"

    def redis_url(self, db: int = 0) -> str:
        return f"redis://{LOCAL_HOST}:{self.redis_port}/{db}"

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"{LOCAL_HOST}:{self.kafka_port}"


def _read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines and # comments: the part of docker compose's .env format the file uses."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def local_services(environ: Mapping[str, str] | None = None) -> LocalServices:
    environ = os.environ if environ is None else environ
    defaults = _read_env_file(LOCAL_SERVICES_FILE)

    def port(name: str) -> int:
        raw = environ.get(name) or defaults.get(name)
        if not raw:
            raise ConfigurationError(f"{name} is not set and {LOCAL_SERVICES_FILE} does not give it")
        return int(raw)

    return LocalServices(
        pg_port=port("CINEMA_PG_PORT"),
        redis_port=port("CINEMA_REDIS_PORT"),
        kafka_port=port("CINEMA_KAFKA_PORT"),
        kafka_controller_port=port("CINEMA_KAFKA_CONTROLLER_PORT"),
        localstack_port=port("CINEMA_LOCALSTACK_PORT"),
    )


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "local"
    # Without a value here (the environment, or the connection secret in AWS): this machine's
    # services (local_services).
    database_url: str
    redis_url: str
    kafka_bootstrap_servers: str
    kafka_topic_prefix: str = "cinema"
    # "plaintext" (local broker) or "aws_msk_iam" (SASL/OAUTHBEARER with SigV4 tokens, for MSK).
    kafka_auth: Literal["plaintext", "aws_msk_iam"] = "plaintext"
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    aws_region: str = "us-east-1"

    reservation_ttl_seconds: int = Field(default=30, ge=1, le=3600)
    max_seats_per_reservation: int = Field(default=10, ge=1, le=100)
    seats_per_row: int = Field(default=10, ge=1, le=50)
    lock_timeout_ms: int = Field(default=2000, ge=10)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    seat_gate_ttl_ms: int = Field(default=5000, ge=100)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    redis_socket_timeout_seconds: float = Field(default=0.25, gt=0)
    redis_retry_after_failure_seconds: float = Field(default=2.0, ge=0)
    kafka_publish_timeout_seconds: float = Field(default=2.0, gt=0)
    kafka_linger_ms: int = Field(default=20, ge=0, le=1000)
    kafka_retry_after_failure_seconds: float = Field(default=5.0, ge=0)

    outbox_relay_grace_seconds: float = Field(default=3.0, ge=0)
    fast_path_max_wait_seconds: float = Field(default=0.5, ge=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_batch_size: int = Field(default=200, ge=1)
    expiry_batch_size: int = Field(default=100, ge=1)

    # Authentication. "jwt" unless a stage says otherwise; "off" trusts the userId in the
    # body and exists only for local development with the original spec's clients.
    auth_mode: Literal["jwt", "off"] = "jwt"
    jwt_issuer: str = "cinema-ticketing"
    jwt_audience: str = "cinema-api"
    jwt_algorithms: tuple[str, ...] = ("RS256",)
    jwt_public_key: str | None = None
    jwt_secret: str | None = None
    jwt_leeway_seconds: int = Field(default=5, ge=0, le=60)
    # The web page's "sign in" button: an OpenID Connect client registered at JWT_ISSUER
    # (authorization code with PKCE). Without it the page takes a pasted token.
    oidc_client_id: str | None = None
    # The issuer's JSON Web Key Set (e.g. Cognito's .well-known/jwks.json): keys picked by
    # the token's `kid`, cached per process for jwt_jwks_cache_seconds.
    jwt_jwks_url: str | None = None
    jwt_jwks_cache_seconds: int = Field(default=3600, ge=60)
    # The claim holding the caller's roles ("cognito:groups" for a Cognito user pool).
    jwt_roles_claim: str = "roles"

    # Abuse limits.
    max_held_seats_per_user: int = Field(default=20, ge=1)
    rate_limit_per_user: int = Field(default=120, ge=1)
    rate_limit_per_ip: int = Field(default=1200, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _relay_waits_for_the_fast_path(self) -> Settings:
        # The fast path may hold a message back for fast_path_max_wait_seconds, then gives it up
        # kafka_publish_timeout_seconds after sending it; the relay must wait longer than both
        # before it sends an unpublished row, or Kafka gets both copies.
        if self.outbox_relay_grace_seconds <= self.fast_path_max_wait_seconds + self.kafka_publish_timeout_seconds:
            raise ValueError(
                "OUTBOX_RELAY_GRACE_SECONDS must exceed FAST_PATH_MAX_WAIT_SECONDS + KAFKA_PUBLISH_TIMEOUT_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _development_key_stays_in_development(self) -> Settings:
        symmetric = [a for a in self.jwt_algorithms if a.upper().startswith("HS")]
        if self.stage not in DEVELOPMENT_STAGES and (self.jwt_secret or symmetric):
            raise ValueError(
                f"stage {self.stage!r} may not use the HS256 development key (JWT_SECRET, HS* algorithms): "
                f"only {', '.join(DEVELOPMENT_STAGES)} may; verify tokens by the issuer's JWKS (JWT_JWKS_URL)"
            )
        return self

    @property
    def booking_topic(self) -> str:
        return f"{self.kafka_topic_prefix}.booking-events"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.booking_topic}.dlq"


_ENV_FIELDS: dict[str, str] = {name.upper(): name for name in Settings.model_fields}


def _environment_values(environ: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {
        field: environ[env_name] for env_name, field in _ENV_FIELDS.items() if environ.get(env_name)
    }
    if isinstance(values.get("jwt_algorithms"), str):
        values["jwt_algorithms"] = tuple(a.strip() for a in str(values["jwt_algorithms"]).split(",") if a.strip())
    return values


def settings_from(environ: Mapping[str, str], secret: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables, overlaid by a connection secret; addresses
    given by neither are this machine's services."""
    values = _environment_values(environ)
    for key, value in (secret or {}).items():
        values[key.lower()] = value
    if not {"database_url", "redis_url", "kafka_bootstrap_servers"} <= values.keys():
        local = local_services(environ)
        values.setdefault("database_url", local.database_url())
        values.setdefault("redis_url", local.redis_url())
        values.setdefault("kafka_bootstrap_servers", local.kafka_bootstrap_servers)
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from exc


def _connection_secret(environ: Mapping[str, str]) -> dict[str, str] | None:
    secret_name = environ.get("CONFIG_SECRET_NAME")
    parameter_name = environ.get("CONFIG_PARAMETER_NAME")
    if not secret_name and not parameter_name:
        return None
    # Imported here so that local runs and unit tests never touch AWS.
    from aws_lambda_powertools.utilities import parameters

    source = f"secret {secret_name}" if secret_name else f"SSM parameter {parameter_name}"
    try:
        if secret_name:
            raw = parameters.get_secret(secret_name, max_age=300)
        else:
            raw = parameters.get_parameter(str(parameter_name), decrypt=True, max_age=300)
    except Exception as exc:  # any failure to fetch is a startup failure, named clearly
        raise ConfigurationError(f"cannot read connection settings from {source}: {exc}") from exc
    document = parse_connection_secret(str(raw), source)
    credentials_secret = document.pop("DATABASE_SECRET_ARN", None)
    if credentials_secret:
        document["DATABASE_URL"] = with_credentials(document["DATABASE_URL"], _database_credentials(credentials_secret))
    return document


def _database_credentials(secret_id: str) -> dict[str, str]:
    """The RDS-managed master secret ({"username", "password"}), which RDS rotates."""
    from aws_lambda_powertools.utilities import parameters

    try:
        credentials = parameters.get_secret(secret_id, transform="json", max_age=300)
    except Exception as exc:
        raise ConfigurationError(f"cannot read the database credentials from secret {secret_id}: {exc}") from exc
    if not isinstance(credentials, dict) or not credentials.get("username") or not credentials.get("password"):
        raise ConfigurationError(f"secret {secret_id} must be a JSON object with username and password")
    return {"username": str(credentials["username"]), "password": str(credentials["password"])}


def with_credentials(database_url: str, credentials: Mapping[str, str]) -> str:
    """DATABASE_URL with the user and password of a credentials secret in it."""
    parts = urlsplit(database_url)
    host = parts.hostname or ""
    netloc = f"{quote(credentials['username'], safe='')}:{quote(credentials['password'], safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_connection_secret(raw: str, source: str) -> dict[str, str]:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid JSON: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"{source} must be a JSON object with keys {', '.join(SECRET_KEYS)}")
    document = {
        key: str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in document.items()
    }
    unknown = sorted(set(document) - set(SECRET_KEYS) - set(OPTIONAL_SECRET_KEYS))
    missing = sorted(set(SECRET_KEYS) - set(document))
    if unknown or missing:
        raise ConfigurationError(f"{source} has unknown keys {unknown} or is missing keys {missing}")
    if not all(isinstance(value, str) and value for value in document.values()):
        raise ConfigurationError(f"{source} values must be non-empty strings")
    return document


def auth_enabled_at_import() -> bool:
    """Whether routes get the JWT authorizer attached: AUTH_MODE when the app module is
    imported (``chalice local`` and ``chalice package`` set the stage's variables first), with
    the setting's own default. Nothing else is read, so importing never fetches a secret."""
    mode = _environment_values(os.environ).get("auth_mode", Settings.model_fields["auth_mode"].default)
    return mode != "off"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(os.environ, _connection_secret(os.environ))
