"""Shared fixtures of the AWS-side tests: one ``chalice package --merge-template`` per stage
per run (infra/stacks.py's own packaging), and its SAM template expanded offline.

The first package after a code change rebuilds the zip from the Lambda wheels `make`
downloaded (.local/lambda-wheels); it takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.stacks import AppPackage, package_app

STAGES = ("local", "test", "dev", "prod")


@pytest.fixture(scope="session")
def app_package(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], AppPackage]:
    built: dict[str, AppPackage] = {}
    root: Path = tmp_path_factory.mktemp("app-packages")

    def package_for(stage: str) -> AppPackage:
        if stage not in built:
            built[stage] = package_app(stage, root / stage)
        return built[stage]

    return package_for


@pytest.fixture(scope="session")
def expanded(app_package) -> Callable[..., dict[str, Any]]:
    """The app template as CloudFormation sees it after the SAM transform, for a stage and
    the stack parameters (as infra/stacks.py would pass them)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    def expand(stage: str, **parameters: str) -> dict[str, Any]:
        template = app_package(stage).template()
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                # What infra/stacks.py does before the deploy: the code is in S3.
                resource["Properties"]["CodeUri"] = "s3://artifacts-bucket/deployment-0123.zip"
        # The region is what the translator needs a session for; no call is made. The app's
        # functions name no AWS managed policy (each has a role of its own): an empty map.
        translator = Translator({}, Parser(), boto_session=boto3.Session(region_name="eu-west-1"))
        return translator.translate(template, parameter_values=dict(parameters))

    return expand
