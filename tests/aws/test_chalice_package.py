"""What ``chalice package`` makes of the app and of .chalice/config.json, and cfn-lint on it.

cfn-lint runs with every rule on and nothing is ignored: no rule fires on these templates.
One real error is avoided in the configuration rather than silenced here: when
``log_retention_in_days`` applies to the API function (set at stage level or under
``lambda_functions.api_handler``), Chalice 1.34 emits ``ApiHandlerLogGroup`` with
``LogGroupName: !Sub /aws/lambda/${ApiHandler}`` while the function's resource is
``APIHandler``; cfn-lint reports E1019/E3030/E3031 and CloudFormation would reject the stack.
So retention is set per function for the five other functions, and ``infra.deploy`` gives the
API function's log group the same retention.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import app
from infra.sam_package import API_HANDLER, PROJECT_ROOT

STAGES = ("local", "test", "dev", "prod")
CONFIG = json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text())

EXPECTED_HANDLERS = {
    "api_handler": "app.app",
    "expire_reservations": "chalicelib.jobs.scheduled.expire_reservations",
    "relay_outbox": "chalicelib.jobs.scheduled.relay_outbox",
    "metrics_consumer": "chalicelib.jobs.consumers.metrics_consumer",
    "audit_consumer": "chalicelib.jobs.consumers.audit_consumer",
    "migrate": "chalicelib.jobs.functions.migrate",
}


def test_cfn_lint_passes_on_every_stage_template(chalice_package):
    templates = [str(chalice_package(stage).directory / "sam.json") for stage in STAGES]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_cfn_lint_is_not_blind(chalice_package, tmp_path):
    """The same lint run fails on the template Chalice makes when the API function has a
    log retention (the Chalice naming bug described above), so a pass above means something."""
    template = json.loads((chalice_package("test").directory / "sam.json").read_text())
    template["Resources"]["ApiHandlerLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${ApiHandler}"}, "RetentionInDays": 3},
    }
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(template))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "E3030" in result.stdout or "E1019" in result.stdout, result.stdout


def test_the_package_has_every_function_of_the_app(chalice_package):
    package = chalice_package("test")
    # Routes all go to the API function; every other handler is its own Lambda function.
    route_views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    own_functions = set(app.handler_map) - route_views
    assert set(package.functions) == own_functions | {API_HANDLER}
    handlers = {name: spec.handler for name, spec in package.functions.items()}
    assert {name: handlers.get(name) for name in EXPECTED_HANDLERS} == EXPECTED_HANDLERS
    assert package.routes() == {path: set(methods) for path, methods in app.routes.items()}
    assert package.zip_path.stat().st_size > 1_000_000  # code plus vendored dependencies


def test_every_handler_resolves_to_a_callable(chalice_package):
    """What the Lambda runtime does with ``Handler``: import the module, take the attribute."""
    for spec in chalice_package("test").functions.values():
        module_name, _, attribute = spec.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), spec.handler


@pytest.mark.parametrize("stage", STAGES)
def test_stage_settings_reach_every_function(chalice_package, stage):
    package = chalice_package(stage)
    stage_config = CONFIG["stages"][stage]
    assert package.api_stage == stage_config["api_gateway_stage"] == stage
    for name, spec in package.functions.items():
        # A function without settings of its own gets the stage's.
        settings = {**stage_config, **stage_config["lambda_functions"].get(name, {})}
        assert spec.timeout == settings["lambda_timeout"], name
        assert spec.memory_size == settings["lambda_memory_size"], name
        assert spec.reserved_concurrency == settings.get("reserved_concurrency"), name
        assert spec.environment["STAGE"] == stage
        assert spec.environment["POWERTOOLS_SERVICE_NAME"] == "cinema-ticketing"
        assert spec.environment["LOG_LEVEL"] == stage_config["environment_variables"]["LOG_LEVEL"]
        # The app's tunables come from the process environment, never from the stage config.
        assert "RESERVATION_TTL_SECONDS" not in spec.environment
        if name in stage_config["lambda_functions"] and name != API_HANDLER:
            assert spec.log_retention_days == settings["log_retention_in_days"], name
    # The API handler times out before API Gateway's 29 s integration limit would cut it off.
    assert package.functions[API_HANDLER].timeout <= 29
    for singleton in ("expire_reservations", "relay_outbox"):
        assert package.functions[singleton].reserved_concurrency == 1
        assert package.functions[singleton].schedules == ("rate(1 minute)",)
    assert package.log_retention_days is not None


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_dev_and_prod_run_in_the_vpc_and_read_a_secret(chalice_package, stage):
    package = chalice_package(stage)
    for spec in package.functions.values():
        assert spec.in_vpc
        assert spec.subnet_ids == tuple(CONFIG["stages"][stage]["subnet_ids"])
        assert spec.security_group_ids == tuple(CONFIG["stages"][stage]["security_group_ids"])
        assert spec.environment["CONFIG_SECRET_NAME"] == f"cinema-ticketing/{stage}/connections"


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_and_test_stages_have_no_vpc(chalice_package, stage):
    assert not any(spec.in_vpc for spec in chalice_package(stage).functions.values())
