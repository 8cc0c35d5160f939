"""Deploy and remove the app through CloudFormation change sets: AWS, or LocalStack.

    python -m infra.stacks deploy  --stage prod       # artifacts, data and app stacks; prints the API URL
    python -m infra.stacks url     --stage prod       # the API URL of the deployed app stack
    python -m infra.stacks destroy --stage prod       # app, data and artifacts stacks, in that order
    python -m infra.stacks deploy  --stage local --endpoint-url http://127.0.0.1:4566   # LocalStack

Three stacks per stage, all named ``cinema-ticketing-<stage>-...``:

* ``-artifacts``: the S3 bucket the package and the app template are uploaded to;
* ``-data`` (infra/cloudformation/data.yaml; AWS only, ``--no-data-stack`` skips it): VPC,
  Aurora with RDS Proxy, ElastiCache, MSK, Cognito, the connection secret. Emulators have no
  RDS Proxy, ElastiCache or MSK, so there the app gets its connection settings as a parameter;
* the app stack itself, ``cinema-ticketing-<stage>``: ``chalice package --merge-template
  infra/cloudformation/app.yaml`` (a SAM template), code uploaded to S3 by content hash.

Each one is created or updated through a change set: a deploy with nothing changed makes an
empty change set, which is reported and deleted. A failed stack operation prints the stack's
events. After the app stack, the deploy invokes its ``migrate`` function (SQL migrations,
Kafka topics; idempotent) and fails when the migrations fail.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import yaml
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, WaiterError

from chalicelib.config import local_services, parse_connection_secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "infra" / "cloudformation"
APP_TEMPLATE = TEMPLATES / "app.yaml"
DATA_TEMPLATE = TEMPLATES / "data.yaml"
ARTIFACTS_TEMPLATE = TEMPLATES / "artifacts.yaml"
# The Lambda wheels of requirements.txt, downloaded by `make` (the Makefile's .installed).
LAMBDA_WHEELS = PROJECT_ROOT / ".local" / "lambda-wheels"
# Emulators accept any credentials; used only with an emulator endpoint and none configured.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# What `chalice package` prints when a requirement has no wheel for the Lambda runtime.
MISSING_DEPENDENCIES_MARKER = "Could not install dependencies"
# Environment variables the app reads at import time: `chalice package` must see the stage's
# values only, never the calling shell's (AUTH_MODE decides whether routes get the authorizer).
SHELL_SETTINGS_KEPT_OUT = ("AUTH_MODE", "DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")


class DeployError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[stacks] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- options


@dataclass
class Options:
    stage: str = "local"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    localstack: bool = False
    data_stack: bool | None = None  # None: on AWS yes, on an emulator no
    database_url: str | None = None
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    extra_settings: dict[str, str] = field(default_factory=dict)  # more keys of the emulator settings
    parameters: dict[str, str] = field(default_factory=dict)  # app stack parameters (--parameter K=V)
    data_parameters: dict[str, str] = field(default_factory=dict)
    package_dir: Path | None = None

    @property
    def on_emulator(self) -> bool:
        return bool(self.endpoint_url or self.localstack)

    @property
    def uses_data_stack(self) -> bool:
        return (not self.on_emulator) if self.data_stack is None else self.data_stack


def read_chalice_config() -> dict[str, Any]:
    return json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text())


@dataclass(frozen=True)
class Names:
    app: str
    stage: str

    @classmethod
    def of(cls, stage: str) -> Names:
        config = read_chalice_config()
        if stage not in config["stages"]:
            raise DeployError(f"stage {stage!r} is not in .chalice/config.json (stages: {', '.join(config['stages'])})")
        return cls(config["app_name"], stage)

    @property
    def app_stack(self) -> str:
        return f"{self.app}-{self.stage}"

    @property
    def data_stack(self) -> str:
        return f"{self.app}-{self.stage}-data"

    @property
    def artifacts_stack(self) -> str:
        return f"{self.app}-{self.stage}-artifacts"

    def function(self, name: str) -> str:
        return f"{self.app_stack}-{name}"


# --------------------------------------------------------------------------- AWS access


class Aws:
    """boto3 clients for one endpoint and region."""

    def __init__(self, factory: Callable[[str], Any], region: str, endpoint_url: str | None) -> None:
        self._factory = factory
        self._clients: dict[str, Any] = {}
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    @property
    def cfn(self) -> Any:
        return self.client("cloudformation")

    @property
    def is_aws(self) -> bool:
        return self.endpoint_url is None


def connect(options: Options) -> Aws:
    retries = BotoConfig(retries={"max_attempts": 8, "mode": "standard"})
    if options.localstack and not options.endpoint_url:
        # localstack-client finds LocalStack the usual way (LOCALSTACK_HOST, default localhost:4566).
        from localstack_client.config import get_service_endpoint
        from localstack_client.session import Session as LocalStackSession

        localstack = LocalStackSession(region_name=options.region, **EMULATOR_CREDENTIALS)
        return Aws(
            lambda service: localstack.client(service, config=retries),
            options.region,
            get_service_endpoint("cloudformation"),
        )
    session = boto3.Session(region_name=options.region)
    if options.endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=options.region, **EMULATOR_CREDENTIALS)
    endpoint = options.endpoint_url
    return Aws(lambda service: session.client(service, endpoint_url=endpoint, config=retries), options.region, endpoint)


def _error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", exc))


# --------------------------------------------------------------------------- one stack


@dataclass
class StackResult:
    name: str
    changed: bool
    outputs: dict[str, str]
    seconds: float
    changes: list[str] = field(default_factory=list)


class CloudFormationStack:
    """One CloudFormation stack, changed only through change sets."""

    def __init__(self, aws: Aws, name: str) -> None:
        self.aws = aws
        self.name = name

    def describe(self) -> dict[str, Any] | None:
        try:
            stacks = self.aws.cfn.describe_stacks(StackName=self.name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in _error_message(exc):
                return None
            raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        return stacks[0]

    def outputs(self) -> dict[str, str]:
        stack = self.describe()
        return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}

    def events_since(self, since: float) -> list[dict[str, Any]]:
        events = []
        for page in self.aws.cfn.get_paginator("describe_stack_events").paginate(StackName=self.name):
            for event in page["StackEvents"]:
                if event["Timestamp"].timestamp() < since - 1:
                    return list(reversed(events))
                events.append(event)
        return list(reversed(events))

    def print_events(self, since: float) -> None:
        for event in self.events_since(since):
            reason = event.get("ResourceStatusReason") or ""
            log(
                f"  {event['Timestamp']:%H:%M:%S} {event['LogicalResourceId']:<32} "
                f"{event['ResourceStatus']:<20} {reason}".rstrip()
            )

    def deploy(
        self, *, template_body: str | None = None, template_url: str | None = None, parameters: dict[str, str]
    ) -> StackResult:
        started = time.time()
        existing = self.describe()
        if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            # A stack whose creation failed can only be deleted.
            log(f"{self.name} is in ROLLBACK_COMPLETE (its creation failed): deleting it first")
            self.delete()
            existing = None
        if existing and existing["StackStatus"] == "REVIEW_IN_PROGRESS":
            existing = None  # a CREATE change set that was never executed: create again
        if existing and existing["StackStatus"].endswith("_IN_PROGRESS"):
            raise DeployError(f"{self.name} is busy ({existing['StackStatus']}): try again when it is done")
        change_set_type = "UPDATE" if existing else "CREATE"
        change_set = f"deploy-{uuid.uuid4().hex[:12]}"
        template = {"TemplateBody": template_body} if template_body else {"TemplateURL": template_url}
        self.aws.cfn.create_change_set(
            StackName=self.name,
            ChangeSetName=change_set,
            ChangeSetType=change_set_type,
            Capabilities=CAPABILITIES,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[{"Key": "app", "Value": read_chalice_config()["app_name"]}],
            **template,
        )
        described = self._wait_for_change_set(change_set)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            self.aws.cfn.delete_change_set(StackName=self.name, ChangeSetName=change_set)
            if "didn't contain changes" in reason or "No updates are to be performed" in reason:
                log(f"{self.name}: the change set is empty, nothing to do")
                return StackResult(self.name, False, self.outputs(), time.time() - started)
            if change_set_type == "CREATE":
                self._delete_review_stack()
            raise DeployError(f"{self.name}: change set failed: {reason}")
        if change_set_type == "UPDATE" and not described.get("Changes"):
            # AWS fails an empty change set (handled above); LocalStack completes it, empty.
            self.aws.cfn.delete_change_set(StackName=self.name, ChangeSetName=change_set)
            log(f"{self.name}: the change set is empty, nothing to do")
            return StackResult(self.name, False, self.outputs(), time.time() - started)
        changes = [
            f"{c['ResourceChange']['Action']} {c['ResourceChange']['LogicalResourceId']}"
            f" ({c['ResourceChange']['ResourceType']})"
            for c in described.get("Changes", [])
        ]
        log(f"{self.name}: {change_set_type.lower()} with {len(changes)} change(s)")
        for change in changes:
            log(f"  {change}")
        self.aws.cfn.execute_change_set(StackName=self.name, ChangeSetName=change_set)
        waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
        self._wait(waiter, started)
        seconds = time.time() - started
        log(f"{self.name}: {change_set_type.lower()} complete in {seconds:.0f} s")
        return StackResult(self.name, True, self.outputs(), seconds, changes)

    def _wait_for_change_set(self, change_set: str) -> dict[str, Any]:
        deadline = time.monotonic() + 600
        while True:
            described = self.aws.cfn.describe_change_set(StackName=self.name, ChangeSetName=change_set)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                # Changes are paged; an app stack has well under a hundred.
                return described
            if time.monotonic() > deadline:
                raise DeployError(f"{self.name}: change set {change_set} still {described['Status']} after 10 min")
            time.sleep(1 if self.aws.endpoint_url else 3)

    def _delete_review_stack(self) -> None:
        # A CREATE change set that failed leaves the stack in REVIEW_IN_PROGRESS.
        stack = self.describe()
        if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            self.aws.cfn.delete_stack(StackName=self.name)

    def _wait(self, waiter_name: str, started: float) -> None:
        delay = 2 if self.aws.endpoint_url else 10
        try:
            self.aws.cfn.get_waiter(waiter_name).wait(
                StackName=self.name, WaiterConfig={"Delay": delay, "MaxAttempts": int(5400 / delay)}
            )
        except WaiterError as exc:
            stack = self.describe()
            status = stack["StackStatus"] if stack else "gone"
            log(f"{self.name}: {status}; its events:")
            self.print_events(started)
            raise DeployError(f"{self.name} failed ({status}): {exc}") from exc

    def delete(self) -> bool:
        stack = self.describe()
        if stack is None:
            log(f"{self.name}: not there")
            return False
        started = time.time()
        self.aws.cfn.delete_stack(StackName=self.name)
        self._wait("stack_delete_complete", started)
        log(f"{self.name}: deleted in {time.time() - started:.0f} s")
        return True


# --------------------------------------------------------------------------- the package


@dataclass(frozen=True)
class AppPackage:
    directory: Path
    missing_dependencies: str | None

    @property
    def template_path(self) -> Path:
        return self.directory / "sam.yaml"

    @property
    def zip_path(self) -> Path:
        return self.directory / "deployment.zip"

    def template(self) -> dict[str, Any]:
        return yaml.safe_load(self.template_path.read_text())


def chalice_executable() -> str:
    beside_python = Path(sys.executable).parent / "chalice"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("chalice")
    if not found:
        raise DeployError("the chalice command is not installed (pip install -r requirements-dev.txt)")
    return found


def package_app(stage: str, outdir: Path, *, region: str = "us-east-1") -> AppPackage:
    """``chalice package --stage STAGE --merge-template infra/cloudformation/app.yaml OUTDIR``.

    The first run downloads the Lambda wheels of requirements.txt (Chalice keeps them in
    ``.chalice/deployments/``); later runs only add the app's own code. The zip is the same
    bytes for the same code, so its hash names it in S3 and an unchanged app is no change.
    """
    if outdir.exists():
        shutil.rmtree(outdir)
    env = {key: value for key, value in os.environ.items() if key not in SHELL_SETTINGS_KEPT_OUT}
    env["AWS_DEFAULT_REGION"] = region
    if wheels_ready():
        # Chalice rebuilds the dependencies whenever the app's code changes; its pip then
        # takes them from the wheels `make` downloaded instead of the network.
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(LAMBDA_WHEELS))
    command = [chalice_executable(), "package", "--stage", stage, "--merge-template", str(APP_TEMPLATE), str(outdir)]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise DeployError(f"chalice package --stage {stage} failed (exit {result.returncode}):\n{output}")
    return AppPackage(outdir, output if MISSING_DEPENDENCIES_MARKER in output else None)


def wheels_ready() -> bool:
    stamp = LAMBDA_WHEELS / ".complete"
    requirements = hashlib.sha256((PROJECT_ROOT / "requirements.txt").read_bytes()).hexdigest()
    return stamp.is_file() and stamp.read_text().strip() == requirements


def log_retention_days(template: dict[str, Any]) -> int | None:
    """The stage's retention: the longest Chalice gave a function's log group."""
    values = [
        int(resource["Properties"]["RetentionInDays"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Logs::LogGroup" and isinstance(resource["Properties"].get("RetentionInDays"), int)
    ]
    return max(values) if values else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- the deploy


@dataclass
class DeployResult:
    stage: str
    url: str
    stacks: list[StackResult]

    @property
    def changed(self) -> bool:
        return any(stack.changed for stack in self.stacks)


class Deployer:
    def __init__(self, aws: Aws, options: Options) -> None:
        self.aws = aws
        self.options = options
        self.names = Names.of(options.stage)

    # ---- artifacts

    def artifacts(self) -> tuple[StackResult, str]:
        result = CloudFormationStack(self.aws, self.names.artifacts_stack).deploy(
            template_body=ARTIFACTS_TEMPLATE.read_text(), parameters={}
        )
        return result, result.outputs["BucketName"]

    def upload(self, bucket: str, key: str, path: Path) -> None:
        s3 = self.aws.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key)
            return  # content-addressed: already there
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        log(f"uploading {path.name} ({path.stat().st_size / 1e6:.1f} MB) to s3://{bucket}/{key}")
        s3.upload_file(str(path), bucket, key)

    def object_url(self, bucket: str, key: str) -> str:
        if self.aws.endpoint_url:
            return f"{self.aws.endpoint_url}/{bucket}/{key}"
        return f"https://{bucket}.s3.{self.aws.region}.amazonaws.com/{key}"

    # ---- data

    def data(self) -> StackResult:
        parameters = {"Stage": self.names.stage, **self.options.data_parameters}
        return CloudFormationStack(self.aws, self.names.data_stack).deploy(
            template_body=DATA_TEMPLATE.read_text(), parameters=parameters
        )

    # ---- app

    def emulator_settings(self) -> str:
        local = local_services()
        given = {
            "DATABASE_URL": self.options.database_url or local.database_url(),
            "REDIS_URL": self.options.redis_url or local.redis_url(),
            "KAFKA_BOOTSTRAP_SERVERS": self.options.kafka_bootstrap_servers or local.kafka_bootstrap_servers,
            **self.options.extra_settings,
        }
        document = json.dumps(given, sort_keys=True)
        parse_connection_secret(document, "the emulator's connection settings")  # the check the functions make
        return document

    def app(self, package: AppPackage, bucket: str) -> StackResult:
        if package.missing_dependencies:
            message = "chalice package could not vendor every requirement:\n" + package.missing_dependencies
            if self.aws.is_aws:
                raise DeployError(message)
            log("warning: " + message)
        code_key = f"{self.names.stage}/deployment-{sha256_file(package.zip_path)}.zip"
        self.upload(bucket, code_key, package.zip_path)
        template = package.template()
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = f"s3://{bucket}/{code_key}"
        body = yaml.safe_dump(template, sort_keys=True).encode()
        template_key = f"{self.names.stage}/app-{hashlib.sha256(body).hexdigest()}.yaml"
        with tempfile.NamedTemporaryFile(suffix=".yaml") as stream:
            stream.write(body)
            stream.flush()
            self.upload(bucket, template_key, Path(stream.name))
        parameters = {
            "ApiStage": read_chalice_config()["stages"][self.names.stage].get("api_gateway_stage", "api"),
            "DataStack": self.names.data_stack if self.options.uses_data_stack else "",
        }
        retention = log_retention_days(template)
        if retention:
            parameters["LogRetentionDays"] = str(retention)
        if not self.options.uses_data_stack:
            parameters["EmulatorConnections"] = self.emulator_settings()
        parameters.update(self.options.parameters)
        return CloudFormationStack(self.aws, self.names.app_stack).deploy(
            template_url=self.object_url(bucket, template_key), parameters=parameters
        )

    def migrate(self) -> dict[str, Any]:
        """Invoke the deployed ``migrate`` function and wait for it; its failure fails the deploy."""
        function = self.names.function("migrate")
        log(f"migrating: invoking {function}")
        response = self.aws.client("lambda").invoke(
            FunctionName=function, InvocationType="RequestResponse", LogType="Tail", Payload=b"{}"
        )
        payload = response["Payload"].read().decode(errors="replace")
        if response.get("FunctionError"):
            tail = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
            raise DeployError(
                f"the migrations failed ({response['FunctionError']}): {payload}\n{tail}\n"
                "The app stack is updated; the database is as it was before (each migration is one "
                "transaction). Fix the migration and deploy again, or roll the code back (docs/deploy.md)."
            )
        result = json.loads(payload)
        log(
            f"migrations applied: {result.get('applied') or 'none pending'}; topics created: "
            f"{result.get('topicsCreated') or 'none missing'}"
        )
        return result

    def run(self) -> DeployResult:
        started = time.monotonic()
        target = self.aws.endpoint_url or f"AWS ({self.aws.region})"
        log(f"deploying {self.names.app_stack} to {target}")
        results = []
        artifacts, bucket = self.artifacts()
        results.append(artifacts)
        if self.options.uses_data_stack:
            results.append(self.data())
        with tempfile.TemporaryDirectory(prefix=f"cinema-package-{self.names.stage}-") as workdir:
            if self.options.package_dir:
                package = AppPackage(self.options.package_dir, None)
            else:
                merge = APP_TEMPLATE.relative_to(PROJECT_ROOT)
                log(f"chalice package --stage {self.names.stage} --merge-template {merge}")
                package = package_app(self.names.stage, Path(workdir) / "package", region=self.aws.region)
            app = self.app(package, bucket)
        results.append(app)
        self.migrate()
        url = api_url(self.aws, app.outputs, self.names.stage)
        log(f"done in {time.monotonic() - started:.0f} s; API at {url}")
        return DeployResult(self.names.stage, url, results)


def api_url(aws: Aws, outputs: dict[str, str], stage: str) -> str:
    if aws.is_aws:
        return outputs["EndpointURL"].rstrip("/")
    # LocalStack serves a REST API on its path-style URL.
    parsed = urlparse(aws.endpoint_url)
    api_stage = read_chalice_config()["stages"][stage].get("api_gateway_stage", "api")
    return f"{parsed.scheme}://{parsed.netloc}/restapis/{outputs['RestAPIId']}/{api_stage}/_user_request_"


def deploy(options: Options) -> DeployResult:
    return Deployer(connect(options), options).run()


def url(options: Options) -> str:
    aws = connect(options)
    names = Names.of(options.stage)
    outputs = CloudFormationStack(aws, names.app_stack).outputs()
    if not outputs:
        raise DeployError(f"no stack {names.app_stack} at {aws.endpoint_url or 'AWS'}: deploy first")
    return api_url(aws, outputs, options.stage)


def empty_bucket(aws: Aws, bucket: str) -> None:
    s3 = aws.client("s3")
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def destroy(options: Options) -> list[str]:
    """Delete the app stack, then the data stack, then the artifacts (emptied first)."""
    aws = connect(options)
    names = Names.of(options.stage)
    deleted = []
    if CloudFormationStack(aws, names.app_stack).delete():
        deleted.append(names.app_stack)
    if CloudFormationStack(aws, names.data_stack).delete():
        deleted.append(names.data_stack)
    artifacts = CloudFormationStack(aws, names.artifacts_stack)
    bucket = artifacts.outputs().get("BucketName")
    if bucket:
        empty_bucket(aws, bucket)
    if artifacts.delete():
        deleted.append(names.artifacts_stack)
    log(f"destroyed {', '.join(deleted) or 'nothing (no stack of the stage)'}")
    return deleted


# --------------------------------------------------------------------------- command line


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected KEY=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def parse_args(argv: list[str] | None = None) -> tuple[str, Options]:
    parser = argparse.ArgumentParser(prog="python -m infra.stacks", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["deploy", "destroy", "url"])
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or None,
        help="LocalStack's URL (default: AWS_ENDPOINT_URL; none: AWS)",
    )
    parser.add_argument("--localstack", action="store_true", help="find LocalStack the way localstack-client does")
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data-stack", dest="data_stack", action="store_true", default=None)
    data.add_argument("--no-data-stack", dest="data_stack", action="store_false")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or None)
    parser.add_argument("--kafka-bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None)
    parser.add_argument(
        "--setting", action="append", default=[], metavar="KEY=VALUE", help="another key of the emulator's settings"
    )
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE", help="app stack parameter")
    parser.add_argument(
        "--data-parameter", action="append", default=[], metavar="KEY=VALUE", help="data stack parameter"
    )
    parser.add_argument("--package-dir", type=Path, help="deploy this chalice package instead of building one")
    args = parser.parse_args(argv)
    return args.command, Options(
        stage=args.stage,
        endpoint_url=args.endpoint_url,
        region=args.region,
        localstack=args.localstack,
        data_stack=args.data_stack,
        database_url=args.database_url,
        redis_url=args.redis_url,
        kafka_bootstrap_servers=args.kafka_bootstrap_servers,
        extra_settings=_pairs(args.setting),
        parameters=_pairs(args.parameter),
        data_parameters=_pairs(args.data_parameter),
        package_dir=args.package_dir,
    )


def main(argv: list[str] | None = None) -> int:
    command, options = parse_args(argv)
    try:
        if command == "deploy":
            print(deploy(options).url, flush=True)
        elif command == "url":
            print(url(options), flush=True)
        else:
            destroy(options)
    except (DeployError, ClientError) as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
