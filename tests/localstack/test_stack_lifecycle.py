"""The app stack's CloudFormation life on LocalStack, after the other tests used it: a deploy
with nothing changed is an empty change set, a changed setting is an in-place update that
the API survives, and destroy leaves nothing of the stage behind.

It runs last (conftest.py puts it there): it deletes the stack the session deployed. The next
``make localstack`` (or ``infra.localstack.stack up``) deploys it again.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from infra.localstack.stack import LAMBDA_POOL_SETTINGS, STAGE, connection_settings
from infra.stacks import Deployer, DeployError, Names, Options, connect, deploy, destroy
from tests.localstack.support import Deployment

pytestmark = pytest.mark.slow

NAMES = Names.of(STAGE)
STACKS = (NAMES.app_stack, NAMES.artifacts_stack)


@pytest.fixture(scope="module")
def options(localstack: Deployment) -> Options:
    settings = connection_settings()
    return Options(
        stage=STAGE,
        endpoint_url=localstack.endpoint_url,
        region=localstack.region,
        database_url=settings["DATABASE_URL"],
        redis_url=settings["REDIS_URL"],
        kafka_bootstrap_servers=settings["KAFKA_BOOTSTRAP_SERVERS"],
        extra_settings=dict(setting.split("=", 1) for setting in LAMBDA_POOL_SETTINGS),
    )


def stage_resources(stack: Deployment) -> dict[str, list[str]]:
    """Everything of the stage that LocalStack holds, found by name (not through CloudFormation)."""
    prefix = NAMES.app_stack
    lam, iam, events, sqs = (stack.client(s) for s in ("lambda", "iam", "events", "sqs"))
    logs, apigateway, s3 = stack.client("logs"), stack.client("apigateway"), stack.client("s3")
    cloudwatch, secrets, cfn = (
        stack.client("cloudwatch"),
        stack.client("secretsmanager"),
        stack.client("cloudformation"),
    )
    live_stacks = [
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    return {
        "stacks": live_stacks,
        "functions": [
            f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(prefix)
        ],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)],
        "rules": [r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"]],
        "queues": [q for q in sqs.list_queues().get("QueueUrls", []) if prefix in q],
        "log groups": [
            g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]
        ],
        "apis": [a["id"] for a in apigateway.get_rest_apis()["items"] if _api_of_stack(apigateway, a, prefix)],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix)],
        "alarms": [a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]],
        "secrets": [s["Name"] for s in secrets.list_secrets()["SecretList"] if s["Name"].startswith(prefix)],
    }


def _api_of_stack(apigateway: Any, api: dict[str, Any], prefix: str) -> bool:
    return (api.get("tags") or {}).get("aws:cloudformation:stack-name") == prefix or api.get("name") == prefix


def test_a_second_deploy_changes_nothing(options: Options):
    started = time.monotonic()
    result = deploy(options)
    assert [(s.name, s.changed, s.changes) for s in result.stacks] == [
        (NAMES.artifacts_stack, False, []),
        (NAMES.app_stack, False, []),
    ]
    assert time.monotonic() - started < 120


def test_a_changed_setting_is_updated_in_place(options: Options, localstack: Deployment):
    before = {
        f["FunctionName"]: f["FunctionArn"]
        for f in localstack.client("lambda").list_functions()["Functions"]
        if f["FunctionName"].startswith(NAMES.app_stack)
    }
    epoch = uuid.uuid4().hex[:8]
    options.parameters = {"ConfigEpoch": epoch}
    try:
        result = deploy(options)
    finally:
        options.parameters = {}
    app = result.stacks[-1]
    assert app.changed
    # Every function gets the new environment; nothing is replaced.
    assert sorted(app.changes) == sorted(
        f"Modify {logical} (AWS::Lambda::Function)"
        for logical in (
            "APIHandler",
            "JwtAuthorizer",
            "ExpireReservations",
            "RelayOutbox",
            "MetricsConsumer",
            "AuditConsumer",
            "Migrate",
        )
    ), app.changes
    lam = localstack.client("lambda")
    for name, arn in before.items():
        configuration = lam.get_function(FunctionName=name)["Configuration"]
        assert configuration["FunctionArn"] == arn
        assert configuration["Environment"]["Variables"]["CONFIG_EPOCH"] == epoch, name
    response = httpx.get(f"{result.url}/sessions?limit=1", timeout=120)
    assert response.status_code == 200, response.text


def test_a_failing_migration_fails_the_deploy(options: Options, localstack: Deployment):
    """The deploy's last step invokes `migrate` and fails with its error. Made to fail here by
    pointing the deployed function at a settings secret that does not exist (drift that the
    destroy below removes with the stack)."""
    lam = localstack.client("lambda")
    function = NAMES.function("migrate")
    variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, "CONFIG_SECRET_NAME": "cinema/absent"}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    with pytest.raises(DeployError, match=r"the migrations failed \(Unhandled\).*cinema/absent"):
        Deployer(connect(options), options).migrate()


def test_destroy_leaves_nothing_behind(options: Options, localstack: Deployment):
    deployed = stage_resources(localstack)
    assert sorted(deployed["stacks"]) == sorted(STACKS)
    assert len(deployed["functions"]) == 7 and len(deployed["roles"]) == 7, deployed
    assert len(deployed["rules"]) == 2 and len(deployed["queues"]) == 1 and len(deployed["apis"]) == 1, deployed
    assert len(deployed["log groups"]) == 7 and len(deployed["buckets"]) == 1, deployed
    assert len(deployed["alarms"]) == 6 and len(deployed["secrets"]) == 1, deployed

    started = time.monotonic()
    assert destroy(options) == [NAMES.app_stack, NAMES.artifacts_stack]
    seconds = time.monotonic() - started

    assert stage_resources(localstack) == {kind: [] for kind in deployed}, f"left after {seconds:.0f} s"
