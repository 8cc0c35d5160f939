"""Dependency health: each dependency is probed on its own, and a dependency that is down
is reported, never raised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HealthReport:
    checks: dict[str, str]

    @property
    def healthy(self) -> bool:
        return all(state == "up" for state in self.checks.values())

    @property
    def down(self) -> list[str]:
        return [name for name, state in self.checks.items() if state != "up"]


class HealthService:
    def __init__(self, probes: dict[str, Callable[[], bool]]) -> None:
        self._probes = probes

    def check(self) -> HealthReport:
        checks: dict[str, str] = {}
        for name, probe in self._probes.items():
            try:
                checks[name] = "up" if probe() else "down"
            except Exception:
                checks[name] = "down"
        return HealthReport(checks)
