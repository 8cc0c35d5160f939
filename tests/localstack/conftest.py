"""End-to-end tests through API Gateway, Lambda and EventBridge of a deployed stage.

By default they target LocalStack without Docker (``infra/localstack``): when
``LOCALSTACK_API_URL`` is unset, the session brings the stack up with
``python -m infra.localstack.stack up`` (reusing whatever is already running) and takes its
URL. Set ``LOCALSTACK_API_URL`` to drive an already deployed API instead, LocalStack's or a
real AWS stage's:

    LOCALSTACK_API_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/dev pytest tests/localstack

Where the AWS APIs are (``LOCALSTACK_ENDPOINT_URL``): taken from a LocalStack API URL, none
for AWS. The database and the Kafka broker the functions use are read from the stage's
connection settings (the secret its app stack outputs as ``EmulatorConnectionSettings``), or given with
``LOCALSTACK_DATABASE_URL`` and ``LOCALSTACK_KAFKA_BOOTSTRAP_SERVERS``. ``LOCALSTACK_STAGE``
names the stage (``local``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_client import ApiClient, OverHttp
from tests.localstack.support import APP, Deployment, TopicReader, endpoint_of

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _stack_up() -> str:
    """python -m infra.localstack.stack up: idempotent, prints the API URL last."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    result = subprocess.run(
        [sys.executable, "-m", "infra.localstack.stack", "up"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, "python -m infra.localstack.stack up failed (its log is above)"
    return result.stdout.strip().splitlines()[-1]


def _connections(stage: str, client: Callable[[str], Any]) -> dict[str, str]:
    given = {
        "DATABASE_URL": os.environ.get("LOCALSTACK_DATABASE_URL"),
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("LOCALSTACK_KAFKA_BOOTSTRAP_SERVERS"),
    }
    if all(given.values()):
        return {k: v for k, v in given.items() if v}
    # The app stack of an emulator stage keeps its connection settings in a secret it outputs.
    outputs = client("cloudformation").describe_stacks(StackName=f"{APP}-{stage}")["Stacks"][0]["Outputs"]
    secret = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "EmulatorConnectionSettings")
    stored = json.loads(client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"])
    return {key: given[key] or stored[key] for key in given}


# The first test also waits for the session's `stack up`, which installs LocalStack the first
# time (a few minutes on two cores): more than the project's 300-second default.
STACK_TIMEOUT = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.timeout(STACK_TIMEOUT))
    # The stack's own lifecycle ends with its destruction: after every other test.
    items.sort(key=lambda item: Path(str(item.path)).name == "test_stack_lifecycle.py")


@pytest.fixture(scope="session")
def stack() -> Deployment:
    api_url = os.environ.get("LOCALSTACK_API_URL") or _stack_up()
    api_url = api_url.rstrip("/")
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT_URL") or endpoint_of(api_url)
    stage = os.environ.get("LOCALSTACK_STAGE", "local")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    partial = Deployment(api_url, endpoint, stage, region, "", "")
    connections = _connections(stage, partial.client)
    # tests.helpers.db_rows reads DATABASE_URL through the app's settings: point it at the
    # database the deployed functions use (the stage's connection parameter names it).
    os.environ["DATABASE_URL"] = connections["DATABASE_URL"]
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    return Deployment(
        api_url, endpoint, stage, region, connections["DATABASE_URL"], connections["KAFKA_BOOTSTRAP_SERVERS"]
    )


@pytest.fixture(scope="session")
def localstack(stack: Deployment) -> Deployment:
    """Tests of the host runtime executor itself need LocalStack, not AWS."""
    if not stack.endpoint_url:
        pytest.skip("tests of the LocalStack host runtime need LocalStack (LOCALSTACK_API_URL points at AWS)")
    return stack


@pytest.fixture(scope="session")
def driver(stack: Deployment) -> ApiClient:
    return ApiClient(OverHttp([stack.api_url]))


@pytest.fixture
def user() -> str:
    """A user of the test's own (at most 20 held seats per user)."""
    return f"ls-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kafka(stack: Deployment) -> Iterator[TopicReader]:
    yield TopicReader(stack.kafka_bootstrap_servers)
