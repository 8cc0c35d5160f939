"""Where the CPU goes during a measurement: CPU seconds per component, read from /proc.

The machine has 2 cores for everything (API instances, PostgreSQL, Redis, Kafka, the
workers, the load driver itself, and other people's test runs), so "holds per second" is
mostly "CPU per hold". ``CpuMeter`` snapshots utime+stime of every process by component
before and after a measurement; ``other`` is whatever else ran on the machine meanwhile.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, cpu seconds) of a process, threads included."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _machine_busy() -> float:
    """CPU seconds the whole machine spent not idle (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


def classify(pid: int, cmd: str, api_pids: set[int], stack_pid: int | None, ppid: int) -> str | None:
    if pid in api_pids or "infra.api_server:create_application" in cmd:
        return "api"
    if cmd.startswith("nginx"):
        return "edge"
    if pid == os.getpid():
        return "driver"
    if cmd.startswith("postgres"):
        return "postgres"
    if "redis-server" in cmd:
        return "redis"
    if "kafka.Kafka" in cmd:
        return "kafka"
    if stack_pid is not None and ppid == stack_pid:
        return "workers"
    return None


class CpuMeter:
    """``with CpuMeter(api_pids, stack_pid) as meter: ...`` then ``meter.result``."""

    def __init__(self, api_pids: list[int], stack_pid: int | None) -> None:
        self.api_pids = set(api_pids)
        self.stack_pid = stack_pid
        self.result: dict[str, float] = {}

    def _snapshot(self) -> dict[int, tuple[str, float]]:
        snap = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            stat = _stat(pid)
            if stat is None:
                continue
            ppid, cpu = stat
            group = classify(pid, _cmdline(pid), self.api_pids, self.stack_pid, ppid)
            if group:
                snap[pid] = (group, cpu)
        return snap

    def __enter__(self) -> CpuMeter:
        self._before = self._snapshot()
        self._busy_before = _machine_busy()
        self._wall_before = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        after = self._snapshot()
        wall = time.perf_counter() - self._wall_before
        busy = _machine_busy() - self._busy_before
        totals: dict[str, float] = {}
        for pid, (group, cpu) in after.items():
            before = self._before.get(pid, (group, 0.0))[1]
            totals[group] = totals.get(group, 0.0) + max(0.0, cpu - before)
        known = sum(totals.values())
        totals["other"] = max(0.0, busy - known)
        totals["machine_busy"] = busy
        totals["wall"] = wall
        totals["cores_busy"] = busy / wall if wall else 0.0
        self.result = totals


def per_operation_ms(cpu: dict[str, float], operations: int) -> dict[str, float]:
    """CPU milliseconds per operation for each component."""
    if not operations:
        return {}
    skip = {"wall", "cores_busy"}
    return {k: v * 1000 / operations for k, v in cpu.items() if k not in skip}
