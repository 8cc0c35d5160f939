"""Shared fixtures of the AWS-side tests: one ``chalice package`` per stage per run.

The first package of a fresh checkout downloads the Lambda wheels of requirements.txt
(Chalice keeps them in .chalice/deployments/, so later runs take about two seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.sam_package import AppPackage, package_app


@pytest.fixture(scope="session")
def chalice_package(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], AppPackage]:
    built: dict[str, AppPackage] = {}
    root: Path = tmp_path_factory.mktemp("chalice-packages")

    def package_for(stage: str) -> AppPackage:
        if stage not in built:
            built[stage] = package_app(stage, root / stage)
        return built[stage]

    return package_for
