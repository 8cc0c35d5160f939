"""Property-based API testing with schemathesis against the generated OpenAPI document:
positive and negative examples, coverage, fuzzing and stateful sequences (following the
document's links) must produce no 5xx and no response that violates the schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT_ROOT, api_instances

pytestmark = pytest.mark.slow


def test_schemathesis_finds_no_server_errors_or_schema_violations(tmp_path: Path):
    with api_instances(1, RATE_LIMIT_PER_IP="1000000", RATE_LIMIT_PER_USER="1000000") as (url,):
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"{url}/openapi.json",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--mode",
                "all",
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance,"
                "content_type_conformance,negative_data_rejection",
                "--max-examples",
                "25",
                "--max-time",
                "150",
                "--seed",
                "20261129",
                "--request-timeout",
                "20",
                "--workers",
                "2",
                "--no-color",
                "--generation-database",
                "none",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "passed" in output.lower()
