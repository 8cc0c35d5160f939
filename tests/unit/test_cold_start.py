"""Importing the handler module loads no driver: every Lambda function shares app.py, and
each should pay at cold start only for the libraries it uses (the time itself is measured by
``make bench``, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DRIVERS = ("psycopg", "psycopg_pool", "redis", "confluent_kafka", "jwt", "yoyo", "boto3")


def test_importing_app_loads_no_driver():
    probe = f"import json, sys, app; print(json.dumps([m for m in {DRIVERS!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_drivers_load_when_the_container_builds_them():
    probe = (
        "import json, sys, app; from chalicelib.bootstrap import container; "
        "services = container(); services.reservations; services.tokens; "
        f"print(json.dumps([m for m in {DRIVERS!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert {"psycopg", "psycopg_pool", "redis", "confluent_kafka", "jwt"} <= loaded
    assert "yoyo" not in loaded
