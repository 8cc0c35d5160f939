"""End-to-end tests over HTTP against several API processes side by side.

By default the stack of ``make run`` is started on a free port: four API processes, like
four Lambda instances sharing PostgreSQL and Redis, behind the nginx edge. Set ``BASE_URLS``
(comma separated) to drive an already running or deployed stack instead:

    BASE_URLS=http://127.0.0.1:8000,http://127.0.0.1:8001 pytest tests/e2e
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from tests.api_client import ApiClient, OverHttp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSTANCES = int(os.environ.get("E2E_INSTANCES", "4"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API process for {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/sessions?limit=1", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"API at {url} not ready after {timeout}s")


@contextmanager
def api_instances(count: int, stage: str = "local", **env: str) -> Iterator[list[str]]:
    """Serve a stage the way ``make run`` does (``infra.run_local`` without its workers:
    ``count`` API processes behind the nginx edge) on a free port, and yield its URL. The
    ``local`` stage runs with AUTH_MODE=off, like the spec's clients expect."""
    port = _free_port()
    command = ["-m", "infra.run_local", "--instances", str(count), "--port", str(port), "--stage", stage]
    process = subprocess.Popen(
        [sys.executable, *command, "--no-workers"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield [url]
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(10)


@pytest.fixture(scope="session")
def base_urls() -> Iterator[list[str]]:
    configured = os.environ.get("BASE_URLS")
    if configured:
        yield [url.rstrip("/") for url in configured.split(",") if url.strip()]
        return
    with api_instances(INSTANCES) as urls:
        yield urls


class PrivateRedis:
    """A redis-server of the test's own, so a test can flush or kill it without
    disturbing anything else."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def driver(base_urls: list[str]) -> ApiClient:
    return ApiClient(OverHttp(base_urls))
