from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib.bootstrap import reset_container
from tests.api_client import ApiClient, InProcess


@pytest.fixture(scope="session")
def chalice_client() -> Iterator[Client]:
    with Client(app, stage_name="local") as client:
        yield client


@pytest.fixture
def api(chalice_client: Client) -> ApiClient:
    return ApiClient(InProcess(chalice_client))


@pytest.fixture(autouse=True)
def _fresh_services() -> Iterator[None]:
    """Each test gets freshly built services (settings may have been changed by the test)."""
    reset_container()
    yield
    reset_container()
