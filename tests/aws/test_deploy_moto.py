"""infra.deploy against a real moto server: the wiring, a second deploy, and destroy.

The server runs in this process on a free port (moto's ThreadedMotoServer) and the deploy
tool talks to it over HTTP exactly as it talks to LocalStack or AWS. Everything is then
checked through boto3 against that server. Two things moto 5.2.5 cannot record (MSK
event-source mappings, DeadLetterConfig) are filled in by tests/aws/moto_gaps.py.

The tests of this module share one server and run in order: deploy, check the wiring,
deploy again, deploy the dev stage, destroy.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto.server import ThreadedMotoServer

from app import app
from chalicelib.bootstrap import reset_container
from chalicelib.config import get_settings
from infra import deploy as deploy_tool
from infra.deploy import MSK_CONSUMERS, DeployError, Options
from infra.sam_package import API_HANDLER
from tests.aws.moto_gaps import fill_moto_gaps

REGION = "us-east-1"
PREFIX = "cinema-ticketing-test"
DEV_PREFIX = "cinema-ticketing-dev"
CONNECTIONS = {
    "database_url": "postgresql://cinema:secret@cinema-db.internal:5432/cinema",
    "redis_url": "redis://cinema-cache.internal:6379/0",
    "kafka_bootstrap_servers": "b-1.cinema.internal:9092,b-2.cinema.internal:9092",
}
DEV_MSK = "arn:aws:kafka:us-east-1:123456789012:cluster/cinema-dev/6f1c2a3b-1111-2222-3333-444455556666-2"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "MSK_CLUSTER_ARN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        fill_moto_gaps(patch)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # any free port
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
        try:
            yield url
        finally:
            server.stop()


@pytest.fixture(scope="module")
def aws(endpoint: str) -> Any:
    class Clients:
        def __getattr__(self, service: str) -> Any:
            return boto3.client(service.rstrip("_"), endpoint_url=endpoint, region_name=REGION)

    return Clients()


@pytest.fixture(scope="module")
def options(endpoint: str, chalice_package) -> Options:
    return Options(
        stage="test",
        endpoint_url=endpoint,
        region=REGION,
        package_dir=chalice_package("test").directory,
        **CONNECTIONS,
    )


@pytest.fixture(scope="module")
def first(options: Options) -> deploy_tool.DeployResult:
    return deploy_tool.deploy(options)


def inventory(aws: Any, prefix: str) -> dict[str, int]:
    """How many of each kind of resource carry the stage's names."""
    functions = [f for f in aws.lambda_.list_functions()["Functions"] if f["FunctionName"].startswith(prefix + "-")]
    mappings = [
        m
        for f in functions
        for m in aws.lambda_.list_event_source_mappings(FunctionName=f["FunctionName"])["EventSourceMappings"]
    ]
    apis = [a for a in aws.apigateway.get_rest_apis()["items"] if a["name"] == prefix]
    app_name, stage = prefix.rsplit("-", 1)
    return {
        "functions": len(functions),
        "event_source_mappings": len(mappings),
        "roles": len([r for r in aws.iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix + "-")]),
        "rules": len(aws.events.list_rules(NamePrefix=prefix + "-")["Rules"]),
        "apis": len(apis),
        "api_resources": sum(len(aws.apigateway.get_resources(restApiId=a["id"])["items"]) for a in apis),
        "api_stages": sum(len(aws.apigateway.get_stages(restApiId=a["id"])["item"]) for a in apis),
        "queues": len(aws.sqs.list_queues(QueueNamePrefix=prefix + "-").get("QueueUrls", [])),
        "parameters": len(
            aws.ssm.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"/{app_name}/{stage}/"]}]
            )["Parameters"]
        ),
        "secrets": len(
            [s for s in aws.secretsmanager.list_secrets()["SecretList"] if s["Name"].startswith(f"{app_name}/{stage}/")]
        ),
        "log_groups": len(aws.logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}-")["logGroups"]),
    }


# ----------------------------------------------------------------------------- first deploy


def test_deploy_creates_every_function_with_its_stage_settings(first, aws, chalice_package):
    package = chalice_package("test")
    assert set(first.function_arns) == set(package.functions)
    assert {
        "api_handler",
        "expire_reservations",
        "relay_outbox",
        "metrics_consumer",
        "audit_consumer",
        "migrate",
    } <= set(first.function_arns)
    for name, spec in package.functions.items():
        function = aws.lambda_.get_function(FunctionName=f"{PREFIX}-{name}")
        configuration = function["Configuration"]
        assert configuration["FunctionArn"] == first.function_arns[name]
        assert configuration["Handler"] == spec.handler
        assert configuration["Runtime"] == spec.runtime
        assert configuration["Timeout"] == spec.timeout
        assert configuration["MemorySize"] == spec.memory_size
        assert configuration["Role"] == first.role_arns[name]
        assert configuration["DeadLetterConfig"] == {"TargetArn": first.dlq_arn}
        environment = configuration["Environment"]["Variables"]
        # The stage's variables, plus where the connection settings are: the test stage names
        # no secret, so the functions are told the parameter.
        assert environment == {**spec.environment, "CONFIG_PARAMETER_NAME": "/cinema-ticketing/test/connections"}
        assert environment["STAGE"] == "test"
        assert environment["POWERTOOLS_SERVICE_NAME"] == "cinema-ticketing"
        assert "DATABASE_URL" not in environment  # connection strings live in the parameter only
        assert function["Tags"]["managed-by"] == "infra.deploy"
        concurrency = aws.lambda_.get_function_concurrency(FunctionName=f"{PREFIX}-{name}")
        assert concurrency.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    for singleton in ("expire_reservations", "relay_outbox"):
        concurrency = aws.lambda_.get_function_concurrency(FunctionName=f"{PREFIX}-{singleton}")
        assert concurrency["ReservedConcurrentExecutions"] == 1


def test_every_route_reaches_the_api_function(first, aws, chalice_package):
    api_arn = first.function_arns[API_HANDLER]
    expected_uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{api_arn}/invocations"
    resources = {r["path"]: r for r in aws.apigateway.get_resources(restApiId=first.api_id)["items"]}
    served = {
        path: set((r.get("resourceMethods") or {}).keys()) for path, r in resources.items() if r.get("resourceMethods")
    }
    assert served == {path: set(methods) for path, methods in app.routes.items()}
    authorizers = {a["id"]: a for a in aws.apigateway.get_authorizers(restApiId=first.api_id)["items"]}
    swagger_paths = chalice_package("test").swagger["paths"]
    for path, methods in app.routes.items():
        for method in methods:
            described = aws.apigateway.get_method(
                restApiId=first.api_id, resourceId=resources[path]["id"], httpMethod=method
            )
            integration = described["methodIntegration"]
            assert integration["type"] == "AWS_PROXY", (method, path)
            assert integration["httpMethod"] == "POST"
            assert integration["uri"] == expected_uri, (method, path)
            # Routes the stage protects go through the Lambda authorizer Chalice declared.
            if swagger_paths[path][method.lower()].get("security"):
                assert described["authorizationType"] == "CUSTOM", (method, path)
                authorizer = authorizers[described["authorizerId"]]
                assert authorizer["type"] == "TOKEN"
                assert authorizer["identitySource"] == "method.request.header.Authorization"
                assert first.function_arns[authorizer["name"]] in authorizer["authorizerUri"]
            else:
                assert described["authorizationType"] == "NONE", (method, path)
    stage = aws.apigateway.get_stage(restApiId=first.api_id, stageName="test")
    assert stage["deploymentId"]
    assert first.url.endswith(f"/restapis/{first.api_id}/test/_user_request_")


def test_api_gateway_may_invoke_the_api_function(first, aws):
    policy = json.loads(aws.lambda_.get_policy(FunctionName=f"{PREFIX}-{API_HANDLER}")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    grant = statements["apigateway-invoke"]
    assert grant["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert grant["Action"] == "lambda:InvokeFunction"
    assert f":{first.api_id}/*" in json.dumps(grant["Condition"])


def test_schedules_invoke_the_sweeper_and_the_relay(first, aws):
    rules = {rule["Name"]: rule for rule in aws.events.list_rules(NamePrefix=PREFIX + "-")["Rules"]}
    assert set(rules) == {f"{PREFIX}-expire_reservations", f"{PREFIX}-relay_outbox"}
    for job in ("expire_reservations", "relay_outbox"):
        rule = rules[f"{PREFIX}-{job}"]
        assert rule["ScheduleExpression"] == "rate(1 minute)"
        assert rule["State"] == "ENABLED"
        targets = aws.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert [t["Arn"] for t in targets] == [first.function_arns[job]]
        policy = json.loads(aws.lambda_.get_policy(FunctionName=f"{PREFIX}-{job}")["Policy"])
        grant = next(s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"})
        assert rule["Arn"] in json.dumps(grant["Condition"])


def test_msk_mappings_feed_the_two_consumers(first, aws):
    assert first.msk_cluster_arn.startswith("arn:aws:kafka:us-east-1:123456789012:cluster/")
    for consumer in MSK_CONSUMERS:
        mappings = aws.lambda_.list_event_source_mappings(FunctionName=f"{PREFIX}-{consumer}")["EventSourceMappings"]
        assert len(mappings) == 1
        mapping = mappings[0]
        assert mapping["EventSourceArn"] == first.msk_cluster_arn
        assert mapping["FunctionArn"] == first.function_arns[consumer]
        assert mapping["Topics"] == ["cinema.booking-events"]
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["AmazonManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": f"{PREFIX}-{consumer}"}
    others = set(first.function_arns) - set(MSK_CONSUMERS)
    for name in others:
        assert aws.lambda_.list_event_source_mappings(FunctionName=f"{PREFIX}-{name}")["EventSourceMappings"] == []


def test_each_role_allows_only_what_its_function_needs(first, aws):
    for name, role_arn in first.role_arns.items():
        role_name = role_arn.rsplit("/", 1)[1]
        assert role_name == f"{PREFIX}-{name}"
        trust = aws.iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert aws.iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
        policy = aws.iam.get_role_policy(RoleName=role_name, PolicyName=role_name)["PolicyDocument"]
        statements = {s["Sid"]: s for s in policy["Statement"]}
        assert statements["DeadLetterQueue"] == {
            "Sid": "DeadLetterQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": first.dlq_arn,
        }
        assert statements["ConnectionSettings"]["Action"] == "ssm:GetParameter"
        assert statements["ConnectionSettings"]["Resource"] == first.store_arn
        assert all(f"/aws/lambda/{PREFIX}-{name}" in r for r in statements["OwnLogGroup"]["Resource"])
        if name in MSK_CONSUMERS:
            assert statements["MskCluster"]["Resource"] == first.msk_cluster_arn
            assert statements["MskTopic"]["Resource"].endswith("/cinema.booking-events")
            assert ":topic/" in statements["MskTopic"]["Resource"]
            assert statements["MskConsumerGroup"]["Resource"].endswith(f"/{PREFIX}-{name}")
            assert "VpcNetworkInterfaces" in statements  # the mapping's pollers join the cluster's VPC
        else:
            # No VPC on the test stage, no Kafka IAM: logs, the DLQ and the parameter only.
            assert set(statements) == {"OwnLogGroup", "DeadLetterQueue", "ConnectionSettings"}
        # Nothing is granted on every resource except network interfaces (no resource-level ARNs exist).
        for statement in policy["Statement"]:
            if statement["Resource"] == "*":
                assert all(action.startswith("ec2:") for action in statement["Action"])


def test_connection_settings_are_a_securestring_the_app_can_load(first, aws, endpoint, monkeypatch):
    parameter = aws.ssm.get_parameter(Name="/cinema-ticketing/test/connections", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["ARN"] == first.store_arn
    assert json.loads(parameter["Value"]) == {key.upper(): value for key, value in CONNECTIONS.items()}
    # What a cold start of any deployed function does with its environment.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", "/cinema-ticketing/test/connections")
    parameters.clear_caches()
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.database_url == CONNECTIONS["database_url"]
        assert settings.redis_url == CONNECTIONS["redis_url"]
        assert settings.kafka_bootstrap_servers == CONNECTIONS["kafka_bootstrap_servers"]
    finally:
        monkeypatch.undo()
        parameters.clear_caches()
        reset_container()


def test_log_groups_keep_the_stage_retention(first, aws, chalice_package):
    groups = {
        g["logGroupName"]: g
        for g in aws.logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}-")["logGroups"]
    }
    retention = chalice_package("test").log_retention_days
    assert retention == 3
    assert set(groups) == {f"/aws/lambda/{PREFIX}-{name}" for name in first.function_arns}
    assert {g["retentionInDays"] for g in groups.values()} == {retention}


def test_url_command_prints_the_localstack_style_url(first, endpoint, capsys):
    assert deploy_tool.main(["url", "--stage", "test", "--endpoint-url", endpoint]) == 0
    assert capsys.readouterr().out.strip() == f"{endpoint}/restapis/{first.api_id}/test/_user_request_"


# ----------------------------------------------------------------------------- second deploy


def test_a_second_deploy_changes_nothing_and_creates_nothing(first, options, aws):
    before = inventory(aws, PREFIX)
    assert before["functions"] == len(first.function_arns) and before["roles"] == len(first.role_arns)
    assert before["rules"] == 2 and before["apis"] == 1 and before["queues"] == 1 and before["parameters"] == 1
    assert before["event_source_mappings"] == 2 and before["api_stages"] == 1

    second = deploy_tool.deploy(options)

    assert second.changes == []
    assert inventory(aws, PREFIX) == before
    assert second.api_id == first.api_id
    assert second.function_arns == first.function_arns
    assert second.event_source_mappings == first.event_source_mappings
    assert second.url == first.url


def test_a_changed_setting_is_updated_in_place(first, options, aws):
    before = inventory(aws, PREFIX)
    changed = replace(options, database_url="postgresql://cinema:rotated@cinema-db.internal:5432/cinema")

    third = deploy_tool.deploy(changed)

    assert third.changes == ["updated SSM parameter /cinema-ticketing/test/connections"]
    value = aws.ssm.get_parameter(Name="/cinema-ticketing/test/connections", WithDecryption=True)["Parameter"]["Value"]
    assert json.loads(value)["DATABASE_URL"] == "postgresql://cinema:rotated@cinema-db.internal:5432/cinema"
    assert json.loads(value)["REDIS_URL"] == CONNECTIONS["redis_url"]
    assert inventory(aws, PREFIX) == before

    restored = deploy_tool.deploy(options)
    assert restored.changes == ["updated SSM parameter /cinema-ticketing/test/connections"]


def test_deploying_from_the_command_line_prints_the_url(first, endpoint, chalice_package, capsys, aws, monkeypatch):
    # No connection settings given: what the store holds is left as it is.
    for name in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    stored = aws.ssm.get_parameter(Name="/cinema-ticketing/test/connections", WithDecryption=True)["Parameter"]
    before = inventory(aws, PREFIX)
    package_dir = str(chalice_package("test").directory)

    assert (
        deploy_tool.main(["deploy", "--stage", "test", "--endpoint-url", endpoint, "--package-dir", package_dir]) == 0
    )

    output = capsys.readouterr()
    assert output.out.strip() == first.url
    assert "[deploy] done: 0 change(s)" in output.err
    assert inventory(aws, PREFIX) == before
    after = aws.ssm.get_parameter(Name="/cinema-ticketing/test/connections", WithDecryption=True)["Parameter"]
    assert (after["Value"], after["Version"]) == (stored["Value"], stored["Version"])


def test_a_function_the_app_no_longer_has_is_removed(first, options, aws, tmp_path):
    before = inventory(aws, PREFIX)
    smaller = tmp_path / "package"
    shutil.copytree(options.package_dir, smaller)
    template = json.loads((smaller / "sam.json").read_text())
    for resource in ("Migrate", "MigrateLogGroup"):
        del template["Resources"][resource]
    (smaller / "sam.json").write_text(json.dumps(template))

    pruned = deploy_tool.deploy(replace(options, package_dir=smaller))

    assert sorted(pruned.changes) == [
        f"deleted function {PREFIX}-migrate",
        f"deleted log group /aws/lambda/{PREFIX}-migrate",
        f"deleted role {PREFIX}-migrate",
    ]
    after = inventory(aws, PREFIX)
    assert after == {
        **before,
        "functions": before["functions"] - 1,
        "roles": before["roles"] - 1,
        "log_groups": before["log_groups"] - 1,
    }

    restored = deploy_tool.deploy(options)
    assert sorted(restored.created) == [
        f"created function {PREFIX}-migrate",
        f"created log group /aws/lambda/{PREFIX}-migrate",
        f"created role {PREFIX}-migrate",
    ]
    assert inventory(aws, PREFIX) == before


# ----------------------------------------------------------------------------- the dev stage


@pytest.fixture(scope="module")
def dev(endpoint: str, chalice_package) -> deploy_tool.DeployResult:
    return deploy_tool.deploy(
        Options(
            stage="dev",
            endpoint_url=endpoint,
            region=REGION,
            package_dir=chalice_package("dev").directory,
            msk_cluster_arn=DEV_MSK,
            **CONNECTIONS,
        )
    )


def test_dev_runs_in_the_vpc_and_reads_its_secret(dev, aws):
    secret = aws.secretsmanager.describe_secret(SecretId="cinema-ticketing/dev/connections")
    assert dev.store_arn == secret["ARN"]
    value = aws.secretsmanager.get_secret_value(SecretId="cinema-ticketing/dev/connections")["SecretString"]
    assert json.loads(value) == {key.upper(): value for key, value in CONNECTIONS.items()}
    for name in dev.function_arns:
        configuration = aws.lambda_.get_function(FunctionName=f"{DEV_PREFIX}-{name}")["Configuration"]
        assert configuration["VpcConfig"]["SubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
        assert configuration["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
        environment = configuration["Environment"]["Variables"]
        assert environment["CONFIG_SECRET_NAME"] == "cinema-ticketing/dev/connections"
        assert "CONFIG_PARAMETER_NAME" not in environment
        role_name = f"{DEV_PREFIX}-{name}"
        policy = aws.iam.get_role_policy(RoleName=role_name, PolicyName=role_name)["PolicyDocument"]
        statements = {s["Sid"]: s for s in policy["Statement"]}
        assert statements["ConnectionSettings"] == {
            "Sid": "ConnectionSettings",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": dev.store_arn,
        }
        assert "ec2:CreateNetworkInterface" in statements["VpcNetworkInterfaces"]["Action"]
    for consumer in MSK_CONSUMERS:
        mappings = aws.lambda_.list_event_source_mappings(FunctionName=f"{DEV_PREFIX}-{consumer}")[
            "EventSourceMappings"
        ]
        assert [m["EventSourceArn"] for m in mappings] == [DEV_MSK]
        role = f"{DEV_PREFIX}-{consumer}"
        statements = {
            s["Sid"]: s for s in aws.iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]["Statement"]
        }
        assert statements["MskTopic"]["Resource"] == (
            "arn:aws:kafka:us-east-1:123456789012:topic/cinema-dev/6f1c2a3b-1111-2222-3333-444455556666-2/cinema.booking-events"
        )
        assert statements["MskConsumerGroup"]["Resource"] == (
            f"arn:aws:kafka:us-east-1:123456789012:group/cinema-dev/6f1c2a3b-1111-2222-3333-444455556666-2/{role}"
        )
    # Two stages side by side: the test stage is untouched.
    assert inventory(aws, PREFIX)["functions"] == len(dev.function_arns)


def test_no_msk_removes_the_consumers_mappings(dev, endpoint, chalice_package, aws):
    options = Options(
        stage="dev", endpoint_url=endpoint, region=REGION, package_dir=chalice_package("dev").directory, no_msk=True
    )
    result = deploy_tool.deploy(options)
    # The mappings go, and so do the consumers' Kafka permissions.
    assert sorted(result.changes) == sorted(
        [
            f"deleted event-source mapping {dev.event_source_mappings[c]} of {DEV_PREFIX}-{c} (--no-msk)"
            for c in MSK_CONSUMERS
        ]
        + [f"updated policy of role {DEV_PREFIX}-{c}" for c in MSK_CONSUMERS]
    )
    for consumer in MSK_CONSUMERS:
        role = f"{DEV_PREFIX}-{consumer}"
        policy = aws.iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
        assert not [s for s in policy["Statement"] if s["Sid"].startswith("Msk")]
    assert inventory(aws, DEV_PREFIX)["event_source_mappings"] == 0
    assert deploy_tool.deploy(options).changes == []


def test_aws_deploys_refuse_placeholders_and_missing_dependencies(chalice_package):
    """Against AWS (no endpoint) the checks stop the deploy before any call is made."""
    package = chalice_package("dev")
    aws = deploy_tool.Aws(lambda service: pytest.fail(f"no {service} call expected"), REGION, None)
    clean = replace(package, missing_dependencies=None)
    options = Options(stage="dev", msk_cluster_arn=DEV_MSK)
    with pytest.raises(DeployError, match=r"placeholder VPC ids \['sg-0123456789abcdef0', 'subnet-0123456789abcdef0'"):
        deploy_tool.Deployer(aws, clean, options).check()
    unvendored = replace(package, missing_dependencies="Could not install dependencies:\nconfluent-kafka==2.16.1")
    with pytest.raises(DeployError, match="confluent-kafka"):
        deploy_tool.Deployer(aws, unvendored, options).check()
    with pytest.raises(DeployError, match="--msk-cluster-arn"):
        deploy_tool.Deployer(aws, clean, Options(stage="dev")).msk_cluster_arn()


# ----------------------------------------------------------------------------- destroy


def test_destroy_removes_everything(first, dev, endpoint, aws):
    assert deploy_tool.main(["destroy", "--stage", "test", "--endpoint-url", endpoint]) == 0
    assert set(inventory(aws, PREFIX).values()) == {0}
    assert inventory(aws, DEV_PREFIX)["functions"] == len(dev.function_arns)  # the other stage stays

    assert deploy_tool.main(["destroy", "--stage", "dev", "--endpoint-url", endpoint]) == 0
    assert set(inventory(aws, DEV_PREFIX).values()) == {0}
    # Nothing of either stage is left anywhere.
    assert aws.lambda_.list_functions()["Functions"] == []
    assert aws.lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    assert aws.iam.list_roles()["Roles"] == []
    assert aws.events.list_rules()["Rules"] == []
    assert aws.apigateway.get_rest_apis()["items"] == []
    assert aws.sqs.list_queues().get("QueueUrls", []) == []
    assert aws.ssm.describe_parameters()["Parameters"] == []
    assert aws.secretsmanager.list_secrets()["SecretList"] == []

    # A destroy with nothing left is a no-op, and the URL is no longer found.
    assert deploy_tool.destroy(Options(stage="test", endpoint_url=endpoint)) == []
    assert deploy_tool.main(["url", "--stage", "test", "--endpoint-url", endpoint]) == 1
