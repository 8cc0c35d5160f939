"""The app as ``chalice package`` describes it: build the package, read its ``sam.json``.

``chalice package --stage STAGE DIR`` writes ``DIR/deployment.zip`` (the code and its
dependencies, one zip shared by every function) and ``DIR/sam.json`` (a SAM template with
one ``AWS::Serverless::Function`` per Lambda function, the stage's settings from
``.chalice/config.json`` already resolved, and the REST API as a Swagger 2.0 document).
``infra.deploy`` deploys from this description with plain API calls, so the functions,
their settings and the routes come from one place: Chalice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Chalice names the REST API's function "api_handler" but its resource "APIHandler".
API_HANDLER = "api_handler"
_API_HANDLER_LOGICAL_ID = "APIHandler"

# What ``chalice package`` prints when a requirement has no wheel for the Lambda runtime
# (the zip is written anyway, without that package).
MISSING_DEPENDENCIES_MARKER = "Could not install dependencies"


class PackageError(RuntimeError):
    """``chalice package`` failed, or its output is not what this tool understands."""


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function of the app, with the stage's settings resolved by Chalice."""

    name: str  # the Chalice name: api_handler, expire_reservations, ...
    logical_id: str  # its resource name in sam.json
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    architectures: tuple[str, ...] = ("x86_64",)
    reserved_concurrency: int | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    schedules: tuple[str, ...] = ()  # EventBridge schedule expressions, e.g. "rate(1 minute)"
    log_retention_days: int | None = None

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnet_ids and self.security_group_ids)


@dataclass(frozen=True)
class AppPackage:
    directory: Path
    app_name: str
    stage: str
    api_stage: str
    functions: dict[str, FunctionSpec]
    swagger: dict[str, Any] = field(repr=False)
    missing_dependencies: str | None = None  # chalice's warning, when it printed one

    @property
    def zip_path(self) -> Path:
        return self.directory / "deployment.zip"

    @cached_property
    def zip_bytes(self) -> bytes:
        return self.zip_path.read_bytes()

    @cached_property
    def code_sha256(self) -> str:
        """The zip's SHA-256 the way Lambda reports it (``CodeSha256``: base64)."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()

    def routes(self) -> dict[str, set[str]]:
        """Path -> HTTP methods of the REST API."""
        return {
            path: {method.upper() for method in methods if not method.startswith("x-")}
            for path, methods in self.swagger.get("paths", {}).items()
        }

    @property
    def log_retention_days(self) -> int | None:
        """The stage's log retention: the one Chalice set on the functions' log groups."""
        values = [spec.log_retention_days for spec in self.functions.values() if spec.log_retention_days]
        return max(values) if values else None


def app_setting_names() -> set[str]:
    """Environment variables the app reads (chalicelib.config), which a stage may set."""
    from chalicelib.config import Settings

    return {name.upper() for name in Settings.model_fields} | {"CONFIG_SECRET_NAME", "CONFIG_PARAMETER_NAME"}


def chalice_executable() -> str:
    beside_python = Path(sys.executable).parent / "chalice"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("chalice")
    if not found:
        raise PackageError("the chalice command is not installed (pip install -r requirements-dev.txt)")
    return found


def package_app(stage: str, outdir: Path, *, region: str = "us-east-1", project_dir: Path = PROJECT_ROOT) -> AppPackage:
    """Run ``chalice package --stage STAGE OUTDIR`` and read what it wrote.

    The first run downloads the Lambda-compatible wheels of requirements.txt (Chalice keeps
    them in ``.chalice/deployments/``); later runs only add the app's own code.
    """
    outdir = Path(outdir)
    if outdir.exists():
        shutil.rmtree(outdir)
    # The app reads some settings when it is imported (AUTH_MODE decides whether routes get
    # the authorizer): the package must depend on the stage's config only, not on this shell.
    env = {key: value for key, value in os.environ.items() if key not in app_setting_names()}
    env["AWS_DEFAULT_REGION"] = region
    result = subprocess.run(
        [chalice_executable(), "package", "--stage", stage, str(outdir)],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise PackageError(f"chalice package --stage {stage} failed (exit {result.returncode}):\n{output}")
    missing = output if MISSING_DEPENDENCIES_MARKER in output else None
    return load_package(outdir, stage=stage, missing_dependencies=missing)


def chalice_name(logical_id: str) -> str:
    """``ExpireReservations`` -> ``expire_reservations`` (the inverse of Chalice's naming)."""
    if logical_id == _API_HANDLER_LOGICAL_ID:
        return API_HANDLER
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id).lower()
    if to_cfn_resource_name(name) != logical_id:
        raise PackageError(f"cannot tell the Chalice name of function resource {logical_id}")
    return name


def _stage_of(resources: dict[str, Any]) -> str | None:
    for resource in resources.values():
        tag = resource.get("Properties", {}).get("Tags", {}).get("aws-chalice", "")
        for part in tag.split(":"):
            if part.startswith("stage="):
                return part.removeprefix("stage=")
    return None


def _app_name_of(resources: dict[str, Any]) -> str | None:
    for resource in resources.values():
        tag = resource.get("Properties", {}).get("Tags", {}).get("aws-chalice", "")
        for part in tag.split(":"):
            if part.startswith("app="):
                return part.removeprefix("app=")
    return None


def load_package(directory: Path, *, stage: str | None = None, missing_dependencies: str | None = None) -> AppPackage:
    directory = Path(directory)
    template_path = directory / "sam.json"
    if not template_path.is_file() or not (directory / "deployment.zip").is_file():
        raise PackageError(f"{directory} has no sam.json and deployment.zip (run chalice package first)")
    template = json.loads(template_path.read_text())
    resources: dict[str, Any] = template.get("Resources", {})

    packaged_stage = _stage_of(resources)
    if stage and packaged_stage and packaged_stage != stage:
        raise PackageError(f"{directory} was packaged for stage {packaged_stage}, not {stage}")
    stage = stage or packaged_stage
    app_name = _app_name_of(resources)
    if not stage or not app_name:
        raise PackageError(f"{template_path} carries no aws-chalice tag naming the app and stage")

    retention_by_function: dict[str, int] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Logs::LogGroup":
            group = resource["Properties"]["LogGroupName"]
            target = re.fullmatch(
                r"/aws/lambda/\$\{(\w+)\}", group.get("Fn::Sub", "") if isinstance(group, dict) else ""
            )
            if target:
                retention_by_function[target.group(1)] = int(resource["Properties"]["RetentionInDays"])

    functions: dict[str, FunctionSpec] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        vpc = props.get("VpcConfig") or {}
        schedules = tuple(
            event["Properties"]["Schedule"]
            for event in (props.get("Events") or {}).values()
            if event.get("Type") == "Schedule"
        )
        name = chalice_name(logical_id)
        functions[name] = FunctionSpec(
            name=name,
            logical_id=logical_id,
            handler=props["Handler"],
            runtime=props["Runtime"],
            timeout=int(props.get("Timeout", 60)),
            memory_size=int(props.get("MemorySize", 128)),
            environment=dict((props.get("Environment") or {}).get("Variables") or {}),
            architectures=tuple(props.get("Architectures") or ("x86_64",)),
            reserved_concurrency=props.get("ReservedConcurrentExecutions"),
            subnet_ids=tuple(vpc.get("SubnetIds") or ()),
            security_group_ids=tuple(vpc.get("SecurityGroupIds") or ()),
            schedules=schedules,
            log_retention_days=retention_by_function.get(logical_id),
        )

    apis = [r for r in resources.values() if r["Type"] == "AWS::Serverless::Api"]
    if len(apis) != 1 or API_HANDLER not in functions:
        raise PackageError(f"{template_path} must define exactly one REST API and its {API_HANDLER} function")
    api = apis[0]["Properties"]
    return AppPackage(
        directory=directory,
        app_name=app_name,
        stage=stage,
        api_stage=api["StageName"],
        functions=functions,
        swagger=api["DefinitionBody"],
        missing_dependencies=missing_dependencies,
    )


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def resolve_subs(document: Any, variables: dict[str, str]) -> Any:
    """Replace every ``{"Fn::Sub": "...${Name}..."}`` in a template fragment by its value."""
    if isinstance(document, dict):
        if set(document) == {"Fn::Sub"} and isinstance(document["Fn::Sub"], str):
            text = document["Fn::Sub"]

            def value_of(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in variables:
                    raise PackageError(f"cannot resolve ${{{name}}} in {text}")
                return variables[name]

            return _SUB_VARIABLE.sub(value_of, text)
        return {key: resolve_subs(value, variables) for key, value in document.items()}
    if isinstance(document, list):
        return [resolve_subs(item, variables) for item in document]
    return document
