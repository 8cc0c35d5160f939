"""The CloudFormation templates, checked offline.

* cfn-lint (every rule, nothing ignored) on the app template of every stage (what
  ``chalice package --merge-template infra/cloudformation/app.yaml`` makes), on the data
  stack and on the artifacts stack;
* the app template expanded with aws-sam-translator, the transform CloudFormation applies:
  every route, both schedules, the MSK mappings, the dead-letter queue, tracing, the alarms,
  and one least-privilege role per function;
* the package: every handler importable, every stage's settings on every function, the MSK
  IAM signer vendored in the zip.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app import app
from infra.stacks import ARTIFACTS_TEMPLATE, DATA_TEMPLATE, PROJECT_ROOT
from tests.aws.conftest import STAGES

CONFIG = json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text())
CFN_LINT = Path(sys.executable).parent / "cfn-lint"

# Chalice name -> logical id in the template.
FUNCTIONS = {
    "api_handler": "APIHandler",
    "jwt_authorizer": "JwtAuthorizer",
    "expire_reservations": "ExpireReservations",
    "relay_outbox": "RelayOutbox",
    "metrics_consumer": "MetricsConsumer",
    "audit_consumer": "AuditConsumer",
    "migrate": "Migrate",
}
EXPECTED_HANDLERS = {
    "APIHandler": "app.app",
    "JwtAuthorizer": "chalicelib.api.auth.jwt_authorizer",
    "ExpireReservations": "chalicelib.jobs.scheduled.expire_reservations",
    "RelayOutbox": "chalicelib.jobs.scheduled.relay_outbox",
    "MetricsConsumer": "chalicelib.jobs.consumers.metrics_consumer",
    "AuditConsumer": "chalicelib.jobs.consumers.audit_consumer",
    "Migrate": "chalicelib.jobs.functions.migrate",
}
# Actions with no resource-level permissions: the only ones allowed on "*".
STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "kafka:DescribeClusterV2",
    "kafka:GetBootstrapBrokers",
}
WITH_DATA_STACK = {"DataStack": "cinema-ticketing-prod-data"}


def cfn_lint(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CFN_LINT), *map(str, paths)], capture_output=True, text=True, check=False)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def resolve_if(value: Any, data_stack: bool) -> Any:
    """Pick the branch of the template's ``Fn::If`` conditions that a stage would get."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            condition, yes, no = value["Fn::If"]
            assert condition in ("UseDataStack", "OnEmulator", "NotifyAlarms"), condition
            chosen = yes if (condition == "UseDataStack") == data_stack else no
            if condition == "NotifyAlarms":
                chosen = no
            return resolve_if(chosen, data_stack)
        return {k: resolve_if(v, data_stack) for k, v in value.items() if resolve_if(v, data_stack) != _NO_VALUE}
    if isinstance(value, list):
        return [resolve_if(v, data_stack) for v in value if resolve_if(v, data_stack) != _NO_VALUE]
    return value


_NO_VALUE = {"Ref": "AWS::NoValue"}


# --------------------------------------------------------------------------- cfn-lint


def test_cfn_lint_passes_on_every_template_of_every_stage(app_package):
    templates = [app_package(stage).template_path for stage in STAGES]
    result = cfn_lint(*templates, DATA_TEMPLATE, ARTIFACTS_TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_cfn_lint_is_not_blind(app_package, tmp_path):
    """The same run fails when a function's role points at a resource that is not there."""
    template = app_package("prod").template()
    template["Resources"]["Migrate"]["Properties"]["Role"] = {"Fn::GetAtt": ["NoSuchRole", "Arn"]}
    broken = tmp_path / "sam.yaml"
    broken.write_text(json.dumps(template))
    result = cfn_lint(broken)
    assert result.returncode != 0 and "NoSuchRole" in result.stdout, result.stdout


# --------------------------------------------------------------------------- the package


def test_the_package_has_every_function_of_the_app(app_package):
    template = app_package("test").template()
    functions = resources_of(template, "AWS::Serverless::Function")
    route_views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    own_functions = set(app.handler_map) - route_views
    assert {name for name in own_functions} | {"api_handler"} == set(FUNCTIONS)
    assert {name: f["Properties"]["Handler"] for name, f in functions.items()} == EXPECTED_HANDLERS
    for handler in EXPECTED_HANDLERS.values():
        module_name, _, attribute = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), handler


def test_the_zip_vendors_the_runtime_dependencies(app_package):
    names = zipfile.ZipFile(app_package("prod").zip_path).namelist()
    for package in ("aws_msk_iam_sasl_signer/", "confluent_kafka/", "psycopg/", "jwt/", "chalicelib/", "app.py"):
        assert any(name.startswith(package) for name in names), package
    # confluent-kafka's wheel for the Lambda runtime, with its librdkafka.
    assert any(name.startswith("confluent_kafka.libs/librdkafka") for name in names)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_settings_reach_every_function(app_package, stage):
    template = app_package(stage).template()
    stage_config = CONFIG["stages"][stage]
    for logical, resource in resources_of(template, "AWS::Serverless::Function").items():
        name = next(n for n, lid in FUNCTIONS.items() if lid == logical)
        props = resource["Properties"]
        settings = {**stage_config, **stage_config["lambda_functions"].get(name, {})}
        assert props["Timeout"] == settings["lambda_timeout"], name
        assert props["MemorySize"] == settings["lambda_memory_size"], name
        assert props.get("ReservedConcurrentExecutions") == settings.get("reserved_concurrency"), name
        variables = props["Environment"]["Variables"]
        assert variables["STAGE"] == stage and variables["POWERTOOLS_SERVICE_NAME"] == "cinema-ticketing"
        # The app's tunables come from the process environment, never from the stage config.
        assert "RESERVATION_TTL_SECONDS" not in variables
        # The HS256 development key never leaves local and test.
        assert ("JWT_SECRET" in variables) == (stage in ("local", "test")), name
        assert props["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
    assert template["Resources"]["APIHandler"]["Properties"]["Timeout"] <= 29
    for singleton in ("ExpireReservations", "RelayOutbox"):
        assert template["Resources"][singleton]["Properties"]["ReservedConcurrentExecutions"] == 1


def test_the_placeholder_role_of_the_chalice_config_never_reaches_a_template(app_package):
    for stage in STAGES:
        text = app_package(stage).template_path.read_text()
        assert CONFIG["iam_role_arn"] not in text, stage


# --------------------------------------------------------------------------- expanded by SAM


@pytest.fixture(scope="module")
def prod(expanded) -> dict[str, Any]:
    return expanded("prod", **WITH_DATA_STACK)


def test_every_route_reaches_the_api_function(prod):
    [api] = resources_of(prod, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    routes = {path: {m.upper() for m in methods if not m.startswith("x-")} for path, methods in paths.items()}
    assert routes == {path: set(methods) for path, methods in app.routes.items()}
    for path, methods in paths.items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (path, method)
            assert "${APIHandler.Arn}" in integration["uri"]["Fn::Sub"], (path, method)
    # Writes and admin routes carry the JWT authorizer in prod; reading the programme does not.
    assert paths["/reservations"]["post"]["security"] == [{"jwt_authorizer": []}]
    assert "security" not in paths["/sessions"]["get"]
    [stage] = resources_of(prod, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "prod" and stage["Properties"]["TracingEnabled"] is True


def test_both_schedules_invoke_their_function_every_minute(prod):
    rules = resources_of(prod, "AWS::Events::Rule")
    targets = {
        rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: rule["Properties"]["ScheduleExpression"]
        for rule in rules.values()
    }
    assert targets == {"ExpireReservations": "rate(1 minute)", "RelayOutbox": "rate(1 minute)"}
    permissions = [
        p["Properties"]["FunctionName"]
        for p in resources_of(prod, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert sorted(permissions, key=str) == sorted([{"Ref": "ExpireReservations"}, {"Ref": "RelayOutbox"}], key=str)


def test_msk_feeds_both_consumers_only_with_a_data_stack(prod):
    mappings = resources_of(prod, "AWS::Lambda::EventSourceMapping")
    assert {m["Properties"]["FunctionName"]["Ref"] for m in mappings.values()} == {"MetricsConsumer", "AuditConsumer"}
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert mapping["Condition"] == "UseDataStack"
        assert props["Topics"] == [{"Ref": "KafkaTopic"}] and props["StartingPosition"] == "TRIM_HORIZON"
        assert props["EventSourceArn"] == {"Fn::ImportValue": {"Fn::Sub": "${DataStack}-MskClusterArn"}}
        consumer = {"MetricsConsumer": "metrics_consumer", "AuditConsumer": "audit_consumer"}[
            props["FunctionName"]["Ref"]
        ]
        group = props["AmazonManagedKafkaEventSourceConfig"]["ConsumerGroupId"]
        assert group == {"Fn::Sub": f"${{AWS::StackName}}-{consumer}"}
    assert prod["Parameters"]["KafkaTopic"]["Default"] == "cinema.booking-events"


def test_every_function_is_traced_dead_lettered_and_in_the_vpc_with_a_data_stack(prod):
    functions = resources_of(prod, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS.values())
    for name, function in functions.items():
        props = function["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["LambdaDeadLetterQueue", "Arn"]}}, name
        on_aws = resolve_if(props["VpcConfig"], data_stack=True)
        assert on_aws["SubnetIds"]["Fn::Split"][1] == {"Fn::ImportValue": {"Fn::Sub": "${DataStack}-PrivateSubnetIds"}}
        assert resolve_if({"VpcConfig": props["VpcConfig"]}, data_stack=False) == {}, name
        secret = props["Environment"]["Variables"]["CONFIG_SECRET_NAME"]
        assert resolve_if(secret, True) == {"Fn::ImportValue": {"Fn::Sub": "${DataStack}-ConnectionSecretArn"}}
        assert resolve_if(secret, False) == {"Ref": "EmulatorConnectionSettings"}
    queue = prod["Resources"]["LambdaDeadLetterQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_alarms(prod):
    alarms = resources_of(prod, "AWS::CloudWatch::Alarm")

    def metrics_of(alarm: dict[str, Any]) -> list[tuple[str, str]]:
        props = alarm["Properties"]
        if "Metrics" in props:
            return [
                (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
                for m in props["Metrics"]
                if "MetricStat" in m
            ]
        namespace = props["Namespace"]  # a stage's own namespace is an Fn::Sub of the stage
        return [
            (namespace.get("Fn::Sub", namespace) if isinstance(namespace, dict) else namespace, props["MetricName"])
        ]

    watched = Counter(metric for alarm in alarms.values() for metric in metrics_of(alarm))
    assert set(watched) == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("CinemaTicketing/${ApiStage}", "OutboxOldestPendingAge"),
        ("AWS/Lambda", "OffsetLag"),
        ("AWS/RDS", "DatabaseConnections"),
    }
    # Errors and throttles of all seven functions; the lag of both consumers.
    assert watched[("AWS/Lambda", "Errors")] == 7 and watched[("AWS/Lambda", "Throttles")] == 7
    assert watched[("AWS/Lambda", "OffsetLag")] == 2
    assert alarms["ApiLatencyP99Alarm"]["Properties"]["ExtendedStatistic"] == "p99"
    # What the relay emits (tests/integration/test_deploy_functions.py).
    assert alarms["OutboxAgeAlarm"]["Properties"]["Namespace"] == {"Fn::Sub": "CinemaTicketing/${ApiStage}"}
    assert alarms["OutboxAgeAlarm"]["Properties"]["Dimensions"] == [{"Name": "service", "Value": "cinema-ticketing"}]
    # Those about MSK and RDS Proxy exist only where there is a data stack.
    conditional = {name for name, alarm in alarms.items() if alarm.get("Condition") == "UseDataStack"}
    assert conditional == {"MetricsConsumerLagAlarm", "AuditConsumerLagAlarm", "RdsProxyConnectionsAlarm"}


def _statements(role: dict[str, Any], data_stack: bool) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in resolve_if(policy["PolicyDocument"]["Statement"], data_stack)
    ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("data_stack", [True, False])
def test_each_function_has_a_least_privilege_role_of_its_own(prod, data_stack):
    functions = resources_of(prod, "AWS::Lambda::Function")
    roles = resources_of(prod, "AWS::IAM::Role")
    role_of = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert sorted(role_of.values()) == sorted(f"{name}Role" for name in functions) == sorted(roles)
    for function, role_name in role_of.items():
        role = roles[role_name]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        assert "ManagedPolicyArns" not in role["Properties"]
        statements = _statements(role, data_stack)
        for statement in statements:
            actions = _listed(statement["Action"])
            assert statement["Effect"] == "Allow"
            assert not any(a == "*" or a.endswith(":*") for a in actions), (function, statement)
            if "*" in _listed(statement["Resource"]):
                assert set(actions) <= STAR_RESOURCE_ACTIONS, (function, statement)
        # Logs only into its own log group (created by the stack, so no logs:CreateLogGroup).
        [logs] = [s for s in statements if s["Sid"] == "OwnLogGroup"]
        chalice_name = next(n for n, lid in FUNCTIONS.items() if lid == function)
        assert logs["Resource"]["Fn::Sub"].endswith(f":log-group:/aws/lambda/${{AWS::StackName}}-{chalice_name}:*")
        granted = {a for s in statements for a in _listed(s["Action"])}
        assert "logs:CreateLogGroup" not in granted
        kafka = {a for a in granted if a.startswith("kafka-cluster:")}
        if not data_stack:
            assert not kafka and not any(a.startswith("ec2:") for a in granted), function
            continue
        expected = {
            "JwtAuthorizer": set(),
            "Migrate": {"kafka-cluster:Connect", "kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic"},
        }.get(
            function,
            {
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:WriteData",
                "kafka-cluster:WriteDataIdempotently",
            },
        )
        if function in ("MetricsConsumer", "AuditConsumer"):
            expected = expected | {
                "kafka-cluster:DescribeClusterDynamicConfiguration",
                "kafka-cluster:ReadData",
                "kafka-cluster:DescribeGroup",
                "kafka-cluster:AlterGroup",
            }
        assert kafka == expected, function
        # Only the consumers read, and each only its own consumer group.
        for statement in statements:
            if "kafka-cluster:AlterGroup" in _listed(statement["Action"]):
                group = statement["Resource"][2]["Fn::Sub"][0]
                assert group.endswith(f"/${{AWS::StackName}}-{chalice_name}"), function


def test_an_emulator_stage_gets_no_vpc_no_msk_and_its_own_settings_secret(expanded):
    local = expanded("local", DataStack="")
    assert local["Resources"]["EmulatorConnectionSettings"]["Condition"] == "OnEmulator"
    assert local["Conditions"]["UseDataStack"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DataStack"}, ""]}]}
    assert local["Parameters"]["EmulatorConnections"]["NoEcho"] is True


def test_each_function_depends_on_its_log_group(prod):
    """Created before the function runs, deleted after it is gone: a schedule that fires during
    a destroy cannot leave a log group behind."""
    groups = resources_of(prod, "AWS::Logs::LogGroup")
    for logical, function in resources_of(prod, "AWS::Lambda::Function").items():
        name = next(n for n, lid in FUNCTIONS.items() if lid == logical)
        assert function["DependsOn"] == [f"{logical}LogGroup"] or f"{logical}LogGroup" in function["DependsOn"]
        group = groups[f"{logical}LogGroup"]["Properties"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{name}"}
        assert function["Properties"]["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
