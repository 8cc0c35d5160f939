"""Deploy the whole stack to any AWS-compatible endpoint: LocalStack, a moto server or AWS.

    python -m infra.deploy deploy  --stage local --endpoint-url http://127.0.0.1:4566
    python -m infra.deploy url     --stage local --endpoint-url http://127.0.0.1:4566
    python -m infra.deploy destroy --stage local --endpoint-url http://127.0.0.1:4566

Without ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``) it talks to AWS with the usual boto3
credentials; ``--localstack`` finds LocalStack the way localstack-client does
(``LOCALSTACK_HOST``, default ``localhost:4566``).

``deploy`` runs ``chalice package --stage STAGE`` and creates or updates, with plain API
calls driven by the package's ``sam.json`` (so moto, which has no SAM transform, can run it):

* an SQS queue, the dead-letter queue of every function's failed asynchronous invocations;
* the connection settings (``DATABASE_URL``, ``REDIS_URL``, ``KAFKA_BOOTSTRAP_SERVERS``) as a
  JSON object: the Secrets Manager secret the stage names in ``CONFIG_SECRET_NAME``, else the
  SSM SecureString parameter in ``CONFIG_PARAMETER_NAME``, else the SSM parameter
  ``/<app>/<stage>/connections``, whose name is then given to the functions;
* per function: an IAM role with only what that function needs, the Lambda function (code,
  handler, stage environment, timeout, memory, VPC, reserved concurrency, dead-letter queue)
  and its log group with the stage's retention;
* the REST API: every route of the Swagger document, AWS_PROXY-integrated with the API
  function, a deployment on the stage, and API Gateway's permission to invoke the function;
* an EventBridge rule per scheduled function (``rate(1 minute)``) and its permission;
* MSK event-source mappings (topic ``cinema.booking-events``) to the two Kafka consumers.

Everything is found by its name (``<app>-<stage>-...``) and tagged ``managed-by=infra.deploy``,
so a second ``deploy`` updates in place and creates nothing twice, and ``destroy`` removes
exactly what ``deploy`` made.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from chalicelib.config import (
    LOCAL_DATABASE_URL,
    LOCAL_KAFKA_BOOTSTRAP_SERVERS,
    LOCAL_REDIS_URL,
    SECRET_KEYS,
    parse_connection_secret,
)
from infra.sam_package import (
    API_HANDLER,
    PROJECT_ROOT,
    AppPackage,
    FunctionSpec,
    PackageError,
    load_package,
    package_app,
    resolve_subs,
)

MANAGED_BY = "infra.deploy"
MSK_CONSUMERS = ("metrics_consumer", "audit_consumer")
DEFAULT_KAFKA_TOPIC = "cinema.booking-events"
MSK_BATCH_SIZE = 100
# Ids in .chalice/config.json that must be replaced before deploying to AWS.
PLACEHOLDER_ID = re.compile(r"^(subnet|sg)-0123456789abcdef\d$")
PLACEHOLDER_CLUSTER_UUID = "00000000-0000-0000-0000-000000000000-1"
# Emulators accept any credentials; used only with an emulator endpoint and none configured.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class DeployError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[deploy] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- options


@dataclass
class Options:
    stage: str = "local"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    localstack: bool = False
    package_dir: Path | None = None
    msk_cluster_arn: str | None = None
    kafka_topic: str = DEFAULT_KAFKA_TOPIC
    no_msk: bool = False
    database_url: str | None = None
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    allow_missing_dependencies: bool = False

    def connection_values(self) -> dict[str, str]:
        """The connection settings given on the command line or in the environment."""
        given = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
        }
        return {key: value for key, value in given.items() if value}


def read_chalice_config(project_dir: Path = PROJECT_ROOT) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text())


def stage_environment(stage: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    config = config or read_chalice_config()
    if stage not in config.get("stages", {}):
        raise DeployError(f"stage {stage!r} is not in .chalice/config.json (stages: {', '.join(config['stages'])})")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


@dataclass(frozen=True)
class Names:
    """Every physical name, derived from the app and the stage."""

    app: str
    stage: str

    @property
    def prefix(self) -> str:
        return f"{self.app}-{self.stage}"

    def function(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def role(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def rule(self, name: str, index: int = 0) -> str:
        return f"{self.prefix}-{name}" + (f"-{index}" if index else "")

    def log_group(self, name: str) -> str:
        return f"/aws/lambda/{self.function(name)}"

    def consumer_group(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def api(self) -> str:
        return self.prefix

    @property
    def dlq(self) -> str:
        return f"{self.prefix}-lambda-dlq"

    @property
    def default_parameter(self) -> str:
        return f"/{self.app}/{self.stage}/connections"

    def tags(self) -> dict[str, str]:
        return {"app": self.app, "stage": self.stage, "managed-by": MANAGED_BY}

    def owns(self, tags: dict[str, str] | None) -> bool:
        tags = tags or {}
        return tags.get("managed-by") == MANAGED_BY and tags.get("stage") == self.stage and tags.get("app") == self.app


@dataclass(frozen=True)
class ConnectionStore:
    kind: str  # "secret" or "parameter"
    name: str
    inject: dict[str, str]  # environment variables the functions need to find it

    @property
    def label(self) -> str:
        return f"secret {self.name}" if self.kind == "secret" else f"SSM parameter {self.name}"


def connection_store(names: Names, environment: dict[str, str]) -> ConnectionStore:
    if environment.get("CONFIG_SECRET_NAME"):
        return ConnectionStore("secret", environment["CONFIG_SECRET_NAME"], {})
    if environment.get("CONFIG_PARAMETER_NAME"):
        return ConnectionStore("parameter", environment["CONFIG_PARAMETER_NAME"], {})
    return ConnectionStore("parameter", names.default_parameter, {"CONFIG_PARAMETER_NAME": names.default_parameter})


# --------------------------------------------------------------------------- AWS access


class Aws:
    """boto3 clients for one endpoint and region, plus the account they act in."""

    def __init__(self, client_factory: Callable[[str], Any], region: str, endpoint_url: str | None) -> None:
        self._factory = client_factory
        self._clients: dict[str, Any] = {}
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self._identity: dict[str, str] | None = None

    def __getattr__(self, service: str) -> Any:
        # aws.lambda_ / aws.iam / aws.sqs ...: one cached client per service.
        if service.startswith("_"):
            raise AttributeError(service)
        name = service.rstrip("_")
        if name not in self._clients:
            self._clients[name] = self._factory(name)
        return self._clients[name]

    @property
    def is_aws(self) -> bool:
        return self.endpoint_url is None

    def _caller(self) -> dict[str, str]:
        if self._identity is None:
            self._identity = self.sts.get_caller_identity()
        return self._identity

    @property
    def account(self) -> str:
        return self._caller()["Account"]

    @property
    def partition(self) -> str:
        return self._caller()["Arn"].split(":")[1]

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:{self.account}:{resource}"


def connect(options: Options) -> Aws:
    retries = BotoConfig(retries={"max_attempts": 8, "mode": "standard"})
    if options.localstack and not options.endpoint_url:
        from localstack_client.config import get_service_endpoint
        from localstack_client.session import Session as LocalStackSession

        localstack = LocalStackSession(region_name=options.region, **EMULATOR_CREDENTIALS)
        return Aws(
            lambda service: localstack.client(service, config=retries),
            options.region,
            get_service_endpoint("apigateway"),
        )
    session = boto3.Session(region_name=options.region)
    if options.endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=options.region, **EMULATOR_CREDENTIALS)
    endpoint = options.endpoint_url
    return Aws(
        lambda service: session.client(service, endpoint_url=endpoint, config=retries),
        options.region,
        endpoint,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


# --------------------------------------------------------------------------- results


@dataclass
class DeployResult:
    stage: str
    api_id: str
    url: str
    function_arns: dict[str, str]
    role_arns: dict[str, str]
    dlq_arn: str
    dlq_url: str
    store: ConnectionStore
    store_arn: str
    rule_arns: dict[str, str]
    event_source_mappings: dict[str, str]
    msk_cluster_arn: str | None
    changes: list[str] = field(default_factory=list)

    @property
    def created(self) -> list[str]:
        return [change for change in self.changes if change.startswith("created")]


# --------------------------------------------------------------------------- deploy


class Deployer:
    def __init__(self, aws: Aws, package: AppPackage, options: Options) -> None:
        self.aws = aws
        self.package = package
        self.options = options
        self.names = Names(package.app_name, package.stage)
        self.tags = self.names.tags()
        self.changes: list[str] = []
        self.store = connection_store(self.names, stage_environment(package.stage))

    def change(self, what: str) -> None:
        self.changes.append(what)
        log(what)

    # ---- checks

    def msk_cluster_arn(self) -> str | None:
        if self.options.no_msk:
            return None
        if self.options.msk_cluster_arn:
            return self.options.msk_cluster_arn
        if self.aws.is_aws:
            raise DeployError("deploying to AWS needs --msk-cluster-arn (or --no-msk to skip the consumers' mappings)")
        return self.aws.arn("kafka", f"cluster/{self.names.prefix}/{PLACEHOLDER_CLUSTER_UUID}")

    def check(self) -> None:
        missing = [name for name in MSK_CONSUMERS if name not in self.package.functions]
        if missing:
            raise DeployError(f"the package has no function named {', '.join(missing)}")
        if self.package.missing_dependencies:
            message = "chalice package could not vendor every requirement:\n" + self.package.missing_dependencies
            if self.aws.is_aws and not self.options.allow_missing_dependencies:
                raise DeployError(message + "\n(--allow-missing-dependencies deploys anyway)")
            log("warning: " + message)
        if self.aws.is_aws:
            placeholders = sorted(
                {
                    value
                    for spec in self.package.functions.values()
                    for value in (*spec.subnet_ids, *spec.security_group_ids)
                    if PLACEHOLDER_ID.match(value)
                }
            )
            if placeholders:
                raise DeployError(
                    f"stage {self.package.stage} still has placeholder VPC ids {placeholders}: "
                    "replace them in .chalice/config.json with the subnets and security groups that reach "
                    "RDS, ElastiCache and MSK"
                )

    # ---- the pieces

    def ensure_dlq(self) -> tuple[str, str]:
        sqs = self.aws.sqs
        try:
            url = sqs.get_queue_url(QueueName=self.names.dlq)["QueueUrl"]
        except ClientError as exc:
            if "NonExistentQueue" not in _error_code(exc) and "QueueDoesNotExist" not in _error_code(exc):
                raise
            url = sqs.create_queue(
                QueueName=self.names.dlq,
                Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)},
                tags=self.tags,
            )["QueueUrl"]
            self.change(f"created dead-letter queue {self.names.dlq}")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _desired_connections(self, current: dict[str, str] | None) -> dict[str, str] | None:
        """What the store should hold, or None to leave it as it is."""
        given = self.options.connection_values()
        if current is not None and not given:
            return None
        base = current or {
            "DATABASE_URL": LOCAL_DATABASE_URL,
            "REDIS_URL": LOCAL_REDIS_URL,
            "KAFKA_BOOTSTRAP_SERVERS": LOCAL_KAFKA_BOOTSTRAP_SERVERS,
        }
        document = {key: given.get(key, base.get(key, "")) for key in SECRET_KEYS}
        # The same check the functions make when they start.
        parse_connection_secret(json.dumps(document), self.store.label)
        return document

    @staticmethod
    def _parsed(raw: str | None) -> dict[str, str]:
        try:
            document = json.loads(raw or "")
        except json.JSONDecodeError:
            return {}
        return document if isinstance(document, dict) else {}

    def ensure_connection_store(self) -> str:
        if self.store.kind == "secret":
            return self._ensure_secret()
        return self._ensure_parameter()

    def _ensure_secret(self) -> str:
        sm = self.aws.secretsmanager
        name = self.store.name
        try:
            described = sm.describe_secret(SecretId=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            described = None
        if described and described.get("DeletedDate"):
            sm.restore_secret(SecretId=name)
            self.change(f"restored secret {name}")
        if described is None:
            document = self._desired_connections(None)
            arn = sm.create_secret(
                Name=name,
                Description=f"{self.names.prefix} connection settings (read by chalicelib.config)",
                SecretString=json.dumps(document),
                Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
            )["ARN"]
            self.change(f"created secret {name}")
            return arn
        current = self._parsed(sm.get_secret_value(SecretId=name).get("SecretString"))
        document = self._desired_connections(current)
        if document is not None and document != current:
            sm.put_secret_value(SecretId=name, SecretString=json.dumps(document))
            self.change(f"updated secret {name}")
        return described["ARN"]

    def _ensure_parameter(self) -> str:
        ssm = self.aws.ssm
        name = self.store.name
        try:
            current_parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as exc:
            if _error_code(exc) != "ParameterNotFound":
                raise
            current_parameter = None
        if current_parameter is None:
            ssm.put_parameter(
                Name=name,
                Description=f"{self.names.prefix} connection settings (read by chalicelib.config)",
                Value=json.dumps(self._desired_connections(None)),
                Type="SecureString",
                Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
            )
            self.change(f"created SSM parameter {name}")
            return ssm.get_parameter(Name=name)["Parameter"]["ARN"]
        current = self._parsed(current_parameter.get("Value"))
        document = self._desired_connections(current)
        if document is not None and document != current:
            ssm.put_parameter(Name=name, Value=json.dumps(document), Type="SecureString", Overwrite=True)
            self.change(f"updated SSM parameter {name}")
        return current_parameter.get("ARN") or self.aws.arn("ssm", "parameter/" + name.lstrip("/"))

    def role_policy(self, spec: FunctionSpec, dlq_arn: str, store_arn: str, msk_cluster_arn: str | None) -> dict:
        log_group = self.aws.arn("logs", f"log-group:{self.names.log_group(spec.name)}")
        statements: list[dict[str, Any]] = [
            {
                "Sid": "OwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group, f"{log_group}:*"],
            },
            {"Sid": "DeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn},
        ]
        # SecureString/secret values use the AWS managed keys (aws/ssm, aws/secretsmanager),
        # whose key policies already let the account's principals decrypt through the service.
        if self.store.kind == "secret":
            statements.append(
                {
                    "Sid": "ConnectionSettings",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": store_arn,
                }
            )
        else:
            statements.append(
                {"Sid": "ConnectionSettings", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": store_arn}
            )
        consumer = msk_cluster_arn is not None and spec.name in MSK_CONSUMERS
        if spec.in_vpc or consumer:
            # ENI management has no resource-level permissions: "*" is the narrowest scope.
            actions = [
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ]
            if consumer:
                actions += ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
            statements.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": actions, "Resource": "*"})
        if consumer and msk_cluster_arn:
            topic_arn, group_arn = msk_resource_arns(
                msk_cluster_arn, self.options.kafka_topic, self.names.consumer_group(spec.name)
            )
            statements += [
                {
                    "Sid": "MskCluster",
                    "Effect": "Allow",
                    "Action": [
                        "kafka:DescribeCluster",
                        "kafka:DescribeClusterV2",
                        "kafka:GetBootstrapBrokers",
                        "kafka-cluster:Connect",
                        "kafka-cluster:DescribeClusterDynamicConfiguration",
                    ],
                    "Resource": msk_cluster_arn,
                },
                {
                    "Sid": "MskTopic",
                    "Effect": "Allow",
                    "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "MskConsumerGroup",
                    "Effect": "Allow",
                    "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                    "Resource": group_arn,
                },
            ]
        return {"Version": "2012-10-17", "Statement": statements}

    def ensure_role(self, spec: FunctionSpec, policy: dict[str, Any]) -> str:
        iam = self.aws.iam
        name = self.names.role(spec.name)
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if _error_code(exc) != "NoSuchEntity":
                raise
            role = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
                Description=f"execution role of {self.names.function(spec.name)}",
                Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
            )["Role"]
            self.change(f"created role {name}")
        try:
            current = iam.get_role_policy(RoleName=name, PolicyName=name)["PolicyDocument"]
        except ClientError as exc:
            if _error_code(exc) != "NoSuchEntity":
                raise
            current = None
        if isinstance(current, str):
            current = json.loads(current)
        if current != policy:
            iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
            if current is not None:
                self.change(f"updated policy of role {name}")
        return role["Arn"]

    def _wait_for_function(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + 300
        while True:
            configuration = self.aws.lambda_.get_function(FunctionName=name)["Configuration"]
            state = configuration.get("State", "Active")
            update = configuration.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = configuration.get("StateReason") or configuration.get("LastUpdateStatusReason")
                raise DeployError(f"function {name} failed: {reason}")
            if state == "Active" and update == "Successful":
                return configuration
            if time.monotonic() > deadline:
                raise DeployError(f"function {name} still {state}/{update} after 300 s")
            time.sleep(1)

    def _retry_while_role_propagates(self, call: Callable[[], Any]) -> Any:
        # A new IAM role (or its policy) takes a few seconds to be usable by Lambda in AWS.
        deadline = time.monotonic() + 90
        while True:
            try:
                return call()
            except ClientError as exc:
                message = str(exc)
                propagating = _error_code(exc) == "InvalidParameterValueException" and (
                    "cannot be assumed" in message or "permission" in message.lower()
                )
                if not propagating or time.monotonic() > deadline:
                    raise
                time.sleep(3)

    def ensure_function(self, spec: FunctionSpec, role_arn: str, environment: dict[str, str], dlq_arn: str) -> str:
        lam = self.aws.lambda_
        name = self.names.function(spec.name)
        desired: dict[str, Any] = {
            "Role": role_arn,
            "Handler": spec.handler,
            "Runtime": spec.runtime,
            "Timeout": spec.timeout,
            "MemorySize": spec.memory_size,
            "Environment": {"Variables": environment},
            "DeadLetterConfig": {"TargetArn": dlq_arn},
        }
        if spec.in_vpc:
            desired["VpcConfig"] = {
                "SubnetIds": list(spec.subnet_ids),
                "SecurityGroupIds": list(spec.security_group_ids),
            }
        try:
            current = lam.get_function(FunctionName=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            current = None

        if current is None:
            self._retry_while_role_propagates(
                lambda: lam.create_function(
                    FunctionName=name,
                    Code={"ZipFile": self.package.zip_bytes},
                    Architectures=list(spec.architectures),
                    Description=f"{self.package.app_name} {spec.name} ({self.package.stage})",
                    Tags=self.tags,
                    Publish=False,
                    **desired,
                )
            )
            self.change(f"created function {name}")
            configuration = self._wait_for_function(name)
            reserved = None
        else:
            configuration = current["Configuration"]
            reserved = (current.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
            differences = self._configuration_differences(configuration, desired)
            if differences:
                if "VpcConfig" in differences and "VpcConfig" not in desired:
                    desired["VpcConfig"] = {"SubnetIds": [], "SecurityGroupIds": []}
                self._retry_while_role_propagates(
                    lambda: lam.update_function_configuration(FunctionName=name, **desired)
                )
                self.change(f"updated function {name} ({', '.join(differences)})")
                configuration = self._wait_for_function(name)
            if configuration.get("CodeSha256") != self.package.code_sha256:
                lam.update_function_code(
                    FunctionName=name, ZipFile=self.package.zip_bytes, Architectures=list(spec.architectures)
                )
                self.change(f"updated code of function {name}")
                configuration = self._wait_for_function(name)

        if spec.reserved_concurrency is not None and reserved != spec.reserved_concurrency:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=spec.reserved_concurrency)
            self.change(f"set reserved concurrency of {name} to {spec.reserved_concurrency}")
        elif spec.reserved_concurrency is None and reserved is not None:
            lam.delete_function_concurrency(FunctionName=name)
            self.change(f"removed reserved concurrency of {name}")
        return configuration["FunctionArn"]

    @staticmethod
    def _configuration_differences(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
        differences = [
            key for key in ("Role", "Handler", "Runtime", "Timeout", "MemorySize") if current.get(key) != desired[key]
        ]
        if (current.get("Environment") or {}).get("Variables", {}) != desired["Environment"]["Variables"]:
            differences.append("Environment")
        if (current.get("DeadLetterConfig") or {}).get("TargetArn") != desired["DeadLetterConfig"]["TargetArn"]:
            differences.append("DeadLetterConfig")
        vpc = current.get("VpcConfig") or {}
        want = desired.get("VpcConfig") or {}
        if sorted(vpc.get("SubnetIds") or []) != sorted(want.get("SubnetIds") or []) or sorted(
            vpc.get("SecurityGroupIds") or []
        ) != sorted(want.get("SecurityGroupIds") or []):
            differences.append("VpcConfig")
        return differences

    def ensure_log_group(self, spec: FunctionSpec) -> None:
        logs = self.aws.logs
        name = self.names.log_group(spec.name)
        retention = spec.log_retention_days or self.package.log_retention_days
        groups = [g for g in _paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name)]
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            logs.create_log_group(logGroupName=name, tags=self.tags)
            self.change(f"created log group {name}")
            group = {}
        if retention and group.get("retentionInDays") != retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
            if group:
                self.change(f"updated retention of log group {name} to {retention} days")

    def ensure_permission(self, function_name: str, statement_id: str, principal: str, source_arn: str) -> None:
        lam = self.aws.lambda_
        try:
            policy = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            policy = {"Statement": []}
        existing = next((s for s in policy.get("Statement", []) if s.get("Sid") == statement_id), None)
        if existing is not None:
            condition = json.dumps(existing.get("Condition", {}))
            if source_arn in condition and principal in json.dumps(existing.get("Principal", "")):
                return
            lam.remove_permission(FunctionName=function_name, StatementId=statement_id)
        lam.add_permission(
            FunctionName=function_name,
            StatementId=statement_id,
            Action="lambda:InvokeFunction",
            Principal=principal,
            SourceArn=source_arn,
        )
        self.change(f"{'updated' if existing else 'created'} permission {statement_id} on {function_name}")

    # ---- REST API

    def find_api(self) -> dict[str, Any] | None:
        return find_rest_api(self.aws, self.names)

    def resolved_swagger(self, function_arns: dict[str, str]) -> dict[str, Any]:
        variables = {
            "AWS::Partition": self.aws.partition,
            "AWS::Region": self.aws.region,
            "AWS::AccountId": self.aws.account,
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, spec in self.package.functions.items():
            variables[f"{spec.logical_id}.Arn"] = function_arns[name]
        return resolve_subs(self.package.swagger, variables)

    def ensure_rest_api(self, function_arns: dict[str, str]) -> str:
        apigw = self.aws.apigateway
        swagger = self.resolved_swagger(function_arns)
        api = self.find_api()
        changed = False
        if api is None:
            # Chalice's binary media types are set when the API is created (moto 5.2 neither
            # stores them nor applies AWS's patch operations for them, so they are not reconciled).
            api = apigw.create_rest_api(
                name=self.names.api,
                description=f"{self.package.app_name} REST API ({self.package.stage})",
                binaryMediaTypes=list(swagger.get("x-amazon-apigateway-binary-media-types") or []),
                endpointConfiguration={"types": ["REGIONAL" if self.aws.is_aws else "EDGE"]},
                tags=self.tags,
            )
            self.change(f"created REST API {self.names.api} ({api['id']})")
            changed = True
        api_id = api["id"]
        authorizers, authorizers_changed = self._sync_authorizers(api_id, swagger, function_arns)
        routes_changed = self._sync_routes(api_id, swagger, authorizers)
        changed = changed or authorizers_changed or routes_changed
        self._delete_unused_authorizers(api_id, authorizers)
        stage = self.package.api_stage
        try:
            apigw.get_stage(restApiId=api_id, stageName=stage)
            has_stage = True
        except ClientError as exc:
            if _error_code(exc) != "NotFoundException":
                raise
            has_stage = False
        if changed or not has_stage:
            apigw.create_deployment(restApiId=api_id, stageName=stage, description="infra.deploy")
            self.change(f"{'updated' if has_stage else 'created'} stage {stage} of REST API {api_id}")
        return api_id

    def _sync_authorizers(
        self, api_id: str, swagger: dict[str, Any], function_arns: dict[str, str]
    ) -> tuple[dict[str, dict[str, Any]], bool]:
        """Lambda authorizers of the Swagger document (Chalice built-in authorizers), by name.

        Returns ``{name: {"type": "CUSTOM" | "AWS_IAM", "id": authorizer id or None}}``."""
        apigw = self.aws.apigateway
        existing = {a["name"]: a for a in _paginate(apigw, "get_authorizers", "items", restApiId=api_id)}
        found: dict[str, dict[str, Any]] = {}
        changed = False
        arn_to_function = {arn: name for name, arn in function_arns.items()}
        for name, definition in (swagger.get("securityDefinitions") or {}).items():
            auth_type = str(definition.get("x-amazon-apigateway-authtype", "")).lower()
            if auth_type == "awssigv4":
                found[name] = {"type": "AWS_IAM", "id": None}
                continue
            authorizer = definition.get("x-amazon-apigateway-authorizer") or {}
            if auth_type != "custom" or str(authorizer.get("type", "")).lower() not in ("token", "request"):
                raise DeployError(f"authorizer {name} ({auth_type or 'unknown'}) is not one infra.deploy creates")
            uri = authorizer["authorizerUri"]
            function = next((fn for arn, fn in arn_to_function.items() if f"/functions/{arn}/" in uri), None)
            if function is None:
                raise DeployError(f"authorizer {name} invokes {uri}, which is not a function of the app")
            wanted = {
                "type": authorizer["type"].upper(),
                "authorizerUri": uri,
                "identitySource": authorizer.get("identitySource")
                or f"method.request.header.{definition.get('name', 'Authorization')}",
                "authorizerResultTtlInSeconds": int(authorizer.get("authorizerResultTtlInSeconds", 300)),
            }
            current = existing.get(name)
            if current is None:
                current = apigw.create_authorizer(restApiId=api_id, name=name, **wanted)
                self.change(f"created authorizer {name} of REST API {api_id}")
                changed = True
            else:
                patches = [
                    {"op": "replace", "path": f"/{key}", "value": str(value)}
                    for key, value in wanted.items()
                    if current.get(key) != value
                ]
                if patches:
                    apigw.update_authorizer(restApiId=api_id, authorizerId=current["id"], patchOperations=patches)
                    self.change(f"updated authorizer {name} of REST API {api_id}")
                    changed = True
            found[name] = {"type": "CUSTOM", "id": current["id"], "function": function}
            self.ensure_permission(
                self.names.function(function),
                "apigateway-authorizer",
                "apigateway.amazonaws.com",
                self.aws.arn("execute-api", f"{api_id}/authorizers/*"),
            )
        return found, changed

    def _delete_unused_authorizers(self, api_id: str, authorizers: dict[str, dict[str, Any]]) -> None:
        apigw = self.aws.apigateway
        for current in _paginate(apigw, "get_authorizers", "items", restApiId=api_id):
            if current["name"] not in authorizers:
                apigw.delete_authorizer(restApiId=api_id, authorizerId=current["id"])
                self.change(f"deleted authorizer {current['name']} of REST API {api_id}")

    @staticmethod
    def _method_auth(doc: dict[str, Any], authorizers: dict[str, dict[str, Any]]) -> tuple[str, str | None]:
        names = [name for requirement in doc.get("security") or [] for name in requirement]
        if not names:
            return "NONE", None
        if len(names) > 1 or names[0] not in authorizers:
            raise DeployError(f"unsupported security requirement {doc['security']}")
        authorizer = authorizers[names[0]]
        return authorizer["type"], authorizer["id"]

    def _sync_routes(self, api_id: str, swagger: dict[str, Any], authorizers: dict[str, dict[str, Any]]) -> bool:
        """Make the API's resources and methods exactly the Swagger document's. True if anything changed."""
        apigw = self.aws.apigateway
        resources = {r["path"]: r for r in _paginate(apigw, "get_resources", "items", restApiId=api_id)}
        changed = False
        wanted_paths = set(swagger["paths"])
        for path in sorted(wanted_paths, key=lambda p: (p.count("/"), p)):
            # Parents first: "/sessions" before "/sessions/{session_id}".
            parts = [part for part in path.split("/") if part]
            for depth in range(1, len(parts) + 1):
                sub_path = "/" + "/".join(parts[:depth])
                if sub_path in resources:
                    continue
                parent_path = "/" + "/".join(parts[: depth - 1])
                created = apigw.create_resource(
                    restApiId=api_id, parentId=resources[parent_path]["id"], pathPart=parts[depth - 1]
                )
                resources[sub_path] = {**created, "resourceMethods": {}}
                self.change(f"created resource {sub_path}")
                changed = True
            resource_id = resources[path]["id"]
            wanted = {m.upper(): doc for m, doc in swagger["paths"][path].items() if not m.startswith("x-")}
            present = set((resources[path].get("resourceMethods") or {}).keys())
            for method, doc in wanted.items():
                changed |= self._sync_method(api_id, resource_id, path, method, doc, authorizers, method in present)
            for method in sorted(present - set(wanted)):
                apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
                self.change(f"deleted method {method} {path}")
                changed = True
        # Resources no route needs any more (deepest first; "/" always stays).
        needed = {"/"} | {
            "/" + "/".join(p.split("/")[1 : depth + 1]) for p in wanted_paths for depth in range(1, p.count("/") + 1)
        }
        for path in sorted(set(resources) - needed, key=lambda p: -p.count("/")):
            try:
                apigw.delete_resource(restApiId=api_id, resourceId=resources[path]["id"])
            except ClientError as exc:
                if _error_code(exc) != "NotFoundException":  # gone with its parent
                    raise
            self.change(f"deleted resource {path}")
            changed = True
        return changed

    def _sync_method(
        self,
        api_id: str,
        resource_id: str,
        path: str,
        method: str,
        doc: dict[str, Any],
        authorizers: dict[str, dict[str, Any]],
        present: bool,
    ) -> bool:
        apigw = self.aws.apigateway
        where = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": method}
        integration = doc["x-amazon-apigateway-integration"]
        authorization, authorizer_id = self._method_auth(doc, authorizers)
        current: dict[str, Any] = apigw.get_method(**where) if present else {}
        recreated = present and (
            current.get("authorizationType") != authorization or current.get("authorizerId") != authorizer_id
        )
        if recreated:
            apigw.delete_method(**where)  # its authorization changed: put it again
            current = {}
        if not current:
            extra = {"authorizerId": authorizer_id} if authorizer_id else {}
            apigw.put_method(**where, authorizationType=authorization, **extra)
        current_integration = current.get("methodIntegration") or {}
        wanted_type = integration["type"].upper()
        integration_changed = (
            current_integration.get("type") != wanted_type or current_integration.get("uri") != integration["uri"]
        )
        if integration_changed:
            apigw.put_integration(
                **where,
                type=wanted_type,
                integrationHttpMethod=integration.get("httpMethod", "POST"),
                uri=integration["uri"],
                passthroughBehavior=integration.get("passthroughBehavior", "when_no_match").upper(),
                contentHandling=integration.get("contentHandling", "CONVERT_TO_TEXT"),
            )
        if recreated:
            self.change(f"updated method {method} {path} (authorization {authorization})")
        elif not current:
            self.change(f"created method {method} {path}")
        elif integration_changed:
            self.change(f"updated integration of {method} {path}")
        return not current or integration_changed

    # ---- schedules and event sources

    def ensure_schedule(self, spec: FunctionSpec, function_arn: str) -> dict[str, str]:
        events = self.aws.events
        arns = {}
        for index, expression in enumerate(spec.schedules):
            rule = self.names.rule(spec.name, index)
            try:
                current = events.describe_rule(Name=rule)
            except ClientError as exc:
                if _error_code(exc) != "ResourceNotFoundException":
                    raise
                current = None
            if current is None or current.get("ScheduleExpression") != expression or current.get("State") != "ENABLED":
                arn = events.put_rule(
                    Name=rule,
                    ScheduleExpression=expression,
                    State="ENABLED",
                    Description=f"invokes {self.names.function(spec.name)}",
                    Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
                )["RuleArn"]
                self.change(f"{'created' if current is None else 'updated'} rule {rule} ({expression})")
            else:
                arn = current["Arn"]
            targets = list(_paginate(events, "list_targets_by_rule", "Targets", Rule=rule))
            if [(t["Id"], t["Arn"]) for t in targets] != [(spec.name, function_arn)]:
                stale = [t["Id"] for t in targets if t["Id"] != spec.name]
                if stale:
                    events.remove_targets(Rule=rule, Ids=stale)
                events.put_targets(Rule=rule, Targets=[{"Id": spec.name, "Arn": function_arn}])
                self.change(f"{'updated' if targets else 'created'} target of rule {rule}")
            self.ensure_permission(self.names.function(spec.name), f"events-{rule}", "events.amazonaws.com", arn)
            arns[rule] = arn
        return arns

    def ensure_event_source(self, spec: FunctionSpec, cluster_arn: str) -> str:
        lam = self.aws.lambda_
        name = self.names.function(spec.name)
        mappings = list(_paginate(lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=name))
        keep = None
        for mapping in mappings:
            if mapping.get("EventSourceArn") == cluster_arn and keep is None:
                keep = mapping
            else:  # another cluster, or a duplicate: the function reads one cluster only
                lam.delete_event_source_mapping(UUID=mapping["UUID"])
                self.change(f"deleted event-source mapping {mapping['UUID']} of {name}")
        if keep is not None:
            if keep.get("Topics") != [self.options.kafka_topic]:
                raise DeployError(
                    f"event-source mapping {keep['UUID']} of {name} reads {keep.get('Topics')}; "
                    "the topic of a mapping cannot change: destroy it first"
                )
            if keep.get("BatchSize") != MSK_BATCH_SIZE:
                lam.update_event_source_mapping(UUID=keep["UUID"], BatchSize=MSK_BATCH_SIZE)
                self.change(f"updated event-source mapping {keep['UUID']} of {name}")
            return keep["UUID"]
        try:
            created = lam.create_event_source_mapping(
                EventSourceArn=cluster_arn,
                FunctionName=name,
                Topics=[self.options.kafka_topic],
                StartingPosition="TRIM_HORIZON",
                BatchSize=MSK_BATCH_SIZE,
                Enabled=True,
                AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": self.names.consumer_group(spec.name)},
            )
        except ClientError as exc:
            if self.aws.is_aws:
                raise
            # moto 5.2 accepts only SQS, DynamoDB and Kinesis sources; LocalStack's MSK support is not free.
            raise DeployError(
                f"{self.aws.endpoint_url} refused an MSK event-source mapping ({exc}); "
                "deploy with --no-msk to skip the consumers' mappings on this emulator"
            ) from exc
        self.change(f"created event-source mapping {created['UUID']} ({self.options.kafka_topic}) -> {name}")
        return created["UUID"]

    def remove_event_sources(self, name: str) -> None:
        lam = self.aws.lambda_
        function = self.names.function(name)
        for mapping in _paginate(lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function):
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
            self.change(f"deleted event-source mapping {mapping['UUID']} of {function} (--no-msk)")

    # ---- all of it

    def run(self) -> DeployResult:
        self.check()
        cluster_arn = self.msk_cluster_arn()
        log(f"deploying {self.names.prefix} to {self.aws.endpoint_url or 'AWS'} (account {self.aws.account})")
        dlq_url, dlq_arn = self.ensure_dlq()
        store_arn = self.ensure_connection_store()
        function_arns: dict[str, str] = {}
        role_arns: dict[str, str] = {}
        for spec in self.package.functions.values():
            policy = self.role_policy(spec, dlq_arn, store_arn, cluster_arn)
            role_arns[spec.name] = self.ensure_role(spec, policy)
            environment = {**spec.environment, **self.store.inject}
            function_arns[spec.name] = self.ensure_function(spec, role_arns[spec.name], environment, dlq_arn)
            self.ensure_log_group(spec)
        api_id = self.ensure_rest_api(function_arns)
        self.ensure_permission(
            self.names.function(API_HANDLER),
            "apigateway-invoke",
            "apigateway.amazonaws.com",
            self.aws.arn("execute-api", f"{api_id}/*"),
        )
        rule_arns: dict[str, str] = {}
        for spec in self.package.functions.values():
            rule_arns.update(self.ensure_schedule(spec, function_arns[spec.name]))
        mappings: dict[str, str] = {}
        if cluster_arn:
            for consumer in MSK_CONSUMERS:
                mappings[consumer] = self.ensure_event_source(self.package.functions[consumer], cluster_arn)
        else:
            for consumer in MSK_CONSUMERS:
                self.remove_event_sources(consumer)
        # Functions and schedules the app no longer has (renamed or removed) go.
        pruned = Reaper(self.aws, self.names).prune(
            {self.names.function(name) for name in function_arns}, set(rule_arns)
        )
        self.changes += [f"deleted {what}" for what in pruned]
        url = api_url(self.aws, api_id, self.package.api_stage)
        log(f"done: {len(self.changes)} change(s); API at {url}")
        return DeployResult(
            stage=self.package.stage,
            api_id=api_id,
            url=url,
            function_arns=function_arns,
            role_arns=role_arns,
            dlq_arn=dlq_arn,
            dlq_url=dlq_url,
            store=self.store,
            store_arn=store_arn,
            rule_arns=rule_arns,
            event_source_mappings=mappings,
            msk_cluster_arn=cluster_arn,
            changes=self.changes,
        )


def msk_resource_arns(cluster_arn: str, topic: str, group: str) -> tuple[str, str]:
    """Topic and consumer-group ARNs of an MSK cluster, for kafka-cluster IAM permissions."""
    match = re.fullmatch(r"(arn:[^:]+:kafka:[^:]*:[^:]*):cluster/([^/]+)/([^/]+)", cluster_arn)
    if not match:
        raise DeployError(f"{cluster_arn} is not an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)")
    base, cluster, uuid = match.groups()
    return f"{base}:topic/{cluster}/{uuid}/{topic}", f"{base}:group/{cluster}/{uuid}/{group}"


def find_rest_api(aws: Aws, names: Names) -> dict[str, Any] | None:
    for api in _paginate(aws.apigateway, "get_rest_apis", "items"):
        if api.get("name") == names.api and names.owns(api.get("tags")):
            return api
    return None


def api_url(aws: Aws, api_id: str, stage: str) -> str:
    if aws.is_aws:
        return f"https://{api_id}.execute-api.{aws.region}.amazonaws.com/{stage}"
    # LocalStack's path-style URL (moto serves the same path for the API it stores).
    parsed = urlparse(aws.endpoint_url)
    return f"{parsed.scheme}://{parsed.netloc}/restapis/{api_id}/{stage}/_user_request_"


def deploy(options: Options) -> DeployResult:
    aws = connect(options)
    if options.package_dir:
        package = load_package(Path(options.package_dir), stage=options.stage)
        return Deployer(aws, package, options).run()
    with tempfile.TemporaryDirectory(prefix=f"cinema-package-{options.stage}-") as workdir:
        log(f"chalice package --stage {options.stage}")
        package = package_app(options.stage, Path(workdir) / "package", region=options.region)
        return Deployer(aws, package, options).run()


# --------------------------------------------------------------------------- url and destroy


def _names_for(stage: str) -> Names:
    stage_environment(stage)  # the stage must exist
    return Names(read_chalice_config()["app_name"], stage)


def url(options: Options) -> str:
    aws = connect(options)
    names = _names_for(options.stage)
    api = find_rest_api(aws, names)
    if api is None:
        raise DeployError(f"no REST API {names.api} at {aws.endpoint_url or 'AWS'}: deploy first")
    api_stage = read_chalice_config()["stages"][options.stage].get("api_gateway_stage", "api")
    return api_url(aws, api["id"], api_stage)


class Reaper:
    """Finds what ``deploy`` made for a stage (by name, checked by tags) and deletes it."""

    def __init__(self, aws: Aws, names: Names) -> None:
        self.aws = aws
        self.names = names
        self.removed: list[str] = []

    def gone(self, what: str) -> None:
        self.removed.append(what)
        log(f"deleted {what}")

    def functions(self) -> list[str]:
        lam = self.aws.lambda_
        return [
            function["FunctionName"]
            for function in _paginate(lam, "list_functions", "Functions")
            if function["FunctionName"].startswith(self.names.prefix + "-")
            and self.names.owns(lam.list_tags(Resource=function["FunctionArn"]).get("Tags"))
        ]

    def rules(self) -> list[str]:
        events = self.aws.events
        return [
            rule["Name"]
            for rule in _paginate(events, "list_rules", "Rules", NamePrefix=self.names.prefix + "-")
            if self.names.owns(
                {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
            )
        ]

    def roles(self) -> list[str]:
        iam = self.aws.iam
        return [
            role["RoleName"]
            for role in _paginate(iam, "list_roles", "Roles")
            if role["RoleName"].startswith(self.names.prefix + "-")
            and self.names.owns(
                {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])}
            )
        ]

    def log_groups(self) -> list[str]:
        logs = self.aws.logs
        prefix = f"/aws/lambda/{self.names.prefix}-"
        return [
            group["logGroupName"]
            for group in _paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=prefix)
            if self.names.owns(logs.list_tags_log_group(logGroupName=group["logGroupName"]).get("tags", {}))
        ]

    def delete_function(self, function: str) -> None:
        lam = self.aws.lambda_
        for mapping in _paginate(lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function):
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
            self.gone(f"event-source mapping {mapping['UUID']} of {function}")
        lam.delete_function(FunctionName=function)
        self.gone(f"function {function}")

    def delete_rule(self, rule: str) -> None:
        events = self.aws.events
        target_ids = [t["Id"] for t in _paginate(events, "list_targets_by_rule", "Targets", Rule=rule)]
        if target_ids:
            events.remove_targets(Rule=rule, Ids=target_ids)
        events.delete_rule(Name=rule)
        self.gone(f"rule {rule}")

    def delete_role(self, role: str) -> None:
        iam = self.aws.iam
        for policy in _paginate(iam, "list_role_policies", "PolicyNames", RoleName=role):
            iam.delete_role_policy(RoleName=role, PolicyName=policy)
        iam.delete_role(RoleName=role)
        self.gone(f"role {role}")

    def delete_log_group(self, group: str) -> None:
        self.aws.logs.delete_log_group(logGroupName=group)
        self.gone(f"log group {group}")

    def prune(self, functions: set[str], rules: set[str]) -> list[str]:
        """Delete the functions (with their roles, log groups and mappings) and rules of the
        stage that are not in these sets: what the app no longer has."""
        for rule in self.rules():
            if rule not in rules:
                self.delete_rule(rule)
        for function in self.functions():
            if function not in functions:
                self.delete_function(function)
        for group in self.log_groups():
            if group.removeprefix("/aws/lambda/") not in functions:
                self.delete_log_group(group)
        for role in self.roles():
            if role not in functions:  # a role has its function's name
                self.delete_role(role)
        return self.removed

    def destroy(self, store: ConnectionStore) -> list[str]:
        aws, names = self.aws, self.names
        functions = self.functions()
        for rule in self.rules():
            self.delete_rule(rule)
        api = find_rest_api(aws, names)
        if api is not None:
            aws.apigateway.delete_rest_api(restApiId=api["id"])
            self.gone(f"REST API {api['id']}")
        for function in functions:
            self.delete_function(function)
        for group in self.log_groups():
            self.delete_log_group(group)
        for role in self.roles():
            self.delete_role(role)
        try:
            queue_url = aws.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
        except ClientError:
            queue_url = None
        if queue_url and names.owns(aws.sqs.list_queue_tags(QueueUrl=queue_url).get("Tags")):
            aws.sqs.delete_queue(QueueUrl=queue_url)
            self.gone(f"queue {names.dlq}")
        self._delete_store(store)
        return self.removed

    def _delete_store(self, store: ConnectionStore) -> None:
        aws, names = self.aws, self.names
        try:
            if store.kind == "secret":
                described = aws.secretsmanager.describe_secret(SecretId=store.name)
                tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
            else:
                tag_list = aws.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=store.name)["TagList"]
                tags = {t["Key"]: t["Value"] for t in tag_list}
        except ClientError:
            return  # not there
        if not names.owns(tags):
            log(f"kept {store.label}: infra.deploy did not create it")
        elif store.kind == "secret":
            aws.secretsmanager.delete_secret(SecretId=store.name, ForceDeleteWithoutRecovery=True)
            self.gone(store.label)
        else:
            aws.ssm.delete_parameter(Name=store.name)
            self.gone(store.label)


def destroy(options: Options) -> list[str]:
    """Remove everything ``deploy`` made for the stage."""
    aws = connect(options)
    names = _names_for(options.stage)
    removed = Reaper(aws, names).destroy(connection_store(names, stage_environment(options.stage)))
    log(f"destroyed {names.prefix}: {len(removed)} resource(s) deleted")
    return removed


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> tuple[str, Options]:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["deploy", "destroy", "url"])
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or None,
        help="LocalStack or moto server URL (default: AWS_ENDPOINT_URL; none: real AWS)",
    )
    parser.add_argument("--localstack", action="store_true", help="find LocalStack the way localstack-client does")
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    parser.add_argument("--package-dir", type=Path, help="deploy this chalice package instead of building one")
    parser.add_argument(
        "--msk-cluster-arn",
        default=os.environ.get("MSK_CLUSTER_ARN") or None,
        help="MSK cluster feeding the consumers (default on emulators: a placeholder ARN)",
    )
    parser.add_argument("--no-msk", action="store_true", help="create no MSK event-source mappings")
    parser.add_argument("--kafka-topic", default=DEFAULT_KAFKA_TOPIC)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or None)
    parser.add_argument("--kafka-bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None)
    parser.add_argument("--allow-missing-dependencies", action="store_true")
    args = parser.parse_args(argv)
    options = Options(
        stage=args.stage,
        endpoint_url=args.endpoint_url,
        region=args.region,
        localstack=args.localstack,
        package_dir=args.package_dir,
        msk_cluster_arn=args.msk_cluster_arn,
        kafka_topic=args.kafka_topic,
        no_msk=args.no_msk,
        database_url=args.database_url,
        redis_url=args.redis_url,
        kafka_bootstrap_servers=args.kafka_bootstrap_servers,
        allow_missing_dependencies=args.allow_missing_dependencies,
    )
    return args.command, options


def main(argv: list[str] | None = None) -> int:
    command, options = parse_args(argv)
    try:
        if command == "deploy":
            print(deploy(options).url)
        elif command == "url":
            print(url(options))
        else:
            destroy(options)
    except (DeployError, PackageError, ClientError) as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
