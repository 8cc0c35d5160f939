"""Tables, the JSON summary line, the plot and docs/perf/REPORT.md from a results dict."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

FINDINGS = Path(__file__).resolve().parent.parent / "docs" / "perf" / "findings.md"


def _level(d: dict, level: int) -> Any:
    """JSON round trips turn int keys into strings; accept both."""
    return d.get(level, d.get(str(level)))


def _r(value: Any, digits: int = 1) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return round(value, digits)
    return value


def summary(results: dict[str, Any]) -> dict[str, Any]:
    tp = results.get("throughput", {})
    api8 = _level(tp.get("api", {}), 8) or {}
    raw8 = _level(tp.get("raw", {}), 8) or {}
    api32 = _level(tp.get("api", {}), 32) or {}
    hot = results.get("hot_seat", {})
    section = results.get("hot_section", {}).get("runs", [])
    invariants = results.get("invariants", [])
    cold = results.get("coldstart", {})
    holds = api8.get("holds_per_s")
    raw = raw8.get("holds_per_s")
    out: dict[str, Any] = {
        "holds_per_s": _r(holds),
        "raw_sql_holds_per_s": _r(raw),
        "ratio": _r(holds / raw, 3) if holds and raw else None,
        "throughput_concurrency": 8,
        "p50_ms": _r(api32.get("latency_ms", {}).get("p50")),
        "p99_ms": _r(api32.get("latency_ms", {}).get("p99")),
        "latency_concurrency": 32,
        "hot_seat_successes": [r["successes"] for r in hot.get("runs", [])],
        "hot_seat_exactly_one": f"{hot.get('exactly_one', 0)}/{len(hot.get('runs', []))}",
        "hot_seat_409_p99_ms": _r(hot.get("latency_409_ms", {}).get("p99")),
        "hot_section_seats_held": [r["seats_held"] for r in section],
        "double_sales": sum(i.get("double_sales", 0) for i in invariants),
        "double_holds": sum(i.get("double_holds", 0) for i in invariants)
        + sum(r.get("overlapping_seats", 0) for r in section)
        + sum(c.get("hot_bursts_double_hold", 0) for c in results.get("chaos", [])),
        "lost_events": sum(i.get("lost_events", 0) for i in invariants),
        "sales_without_event": sum(i.get("sales_without_event", 0) for i in invariants),
        "invariants_ok": all(i.get("ok") for i in invariants),
        "import_ms": _r(cold.get("import", {}).get("median_ms")),
        "package_mb": _r(cold.get("package", {}).get("zip_mb")),
    }
    api16 = _level(tp.get("api", {}), 16) or {}
    raw16 = _level(tp.get("raw", {}), 16) or {}
    api1 = _level(tp.get("api", {}), 1) or {}
    holds16, rawholds16 = api16.get("holds_per_s"), raw16.get("holds_per_s")
    edge = results.get("edge", {})
    out.update(
        {
            "holds_per_s_16": _r(holds16),
            "raw_sql_holds_per_s_16": _r(rawholds16),
            "ratio_16": _r(holds16 / rawholds16, 3) if holds16 and rawholds16 else None,
            "p99_ms_16": _r(api16.get("latency_ms", {}).get("p99")),
            "p50_ms_1": _r(api1.get("latency_ms", {}).get("p50"), 2),
            "api_cpu_ms_per_hold": _r((api16.get("cpu_ms_per_hold") or {}).get("api"), 2),
            "burst_1000_refused": (edge.get("burst") or {}).get("refused_or_reset"),
            "burst_1000_statuses": (edge.get("burst") or {}).get("statuses"),
            "p99_ms_16_with_slow_clients": _r(
                ((edge.get("slow_clients") or {}).get("load_latency_ms") or {}).get("p99")
            ),
            "slow_clients_closed": (edge.get("slow_clients") or {}).get("closed_by_edge"),
        }
    )
    if "chaos" in results:
        out["chaos_runs_ok"] = sum(1 for c in results["chaos"] if c["invariants"]["ok"])
        out["chaos_runs"] = len(results["chaos"])
    return out


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, sep, *body])


def throughput_rows(tp: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for level in tp.get("levels", []):
        api = _level(tp["api"], level) or {}
        raw = _level(tp.get("raw", {}), level) or {}
        a, b = api.get("holds_per_s"), raw.get("holds_per_s")
        lat = api.get("latency_ms", {})
        rows.append(
            [
                level,
                a,
                b,
                f"{a / b:.2f}" if a and b else None,
                lat.get("p50"),
                lat.get("p90"),
                lat.get("p99"),
                raw.get("latency_ms", {}).get("p50"),
                raw.get("latency_ms", {}).get("p99"),
                sum(v for k, v in api.get("statuses", {}).items() if k != "201"),
            ]
        )
    return rows


THROUGHPUT_HEADERS = [
    "clients",
    "API holds/s",
    "raw holds/s",
    "ratio",
    "API p50 ms",
    "API p90 ms",
    "API p99 ms",
    "raw p50 ms",
    "raw p99 ms",
    "API non-201",
]


CPU_COMPONENTS = ["api", "postgres", "kafka", "workers", "redis", "driver", "other", "machine_busy"]
CPU_HEADERS = ["run", "clients", "cores busy", *CPU_COMPONENTS]


def cpu_table_rows(tp: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for kind in ("api", "raw"):
        for level in tp.get("levels", []):
            entry = _level(tp.get(kind, {}), level) or {}
            cpu = entry.get("cpu_ms_per_hold")
            if cpu:
                rows.append(
                    [
                        "API" if kind == "api" else "raw SQL",
                        level,
                        entry.get("cpu_cores_busy"),
                        *(cpu.get(c, 0.0) for c in CPU_COMPONENTS),
                    ]
                )
    return rows


def table(results: dict[str, Any]) -> str:
    parts = [f"cinema bench ({results['mode']}, run {results['tag']}, commit {results.get('commit', '?')})", ""]
    if "throughput" in results:
        parts += ["Uniform holds (1 fresh seat per hold, many sessions), API vs raw SQL:"]
        parts += [_table(THROUGHPUT_HEADERS, throughput_rows(results["throughput"])), ""]
        cpu_rows = cpu_table_rows(results["throughput"])
        if cpu_rows:
            parts += ["CPU ms per successful hold, by component (2 cores for everything):"]
            parts += [_table(CPU_HEADERS, cpu_rows), ""]
    if "hot_seat" in results:
        hot = results["hot_seat"]
        rows = [
            [
                i + 1,
                r["attempts"],
                r["successes"],
                r["statuses"].get("409", 0),
                r["latency_409_ms"]["p50"],
                r["latency_409_ms"]["p99"],
                r["elapsed_s"],
            ]
            for i, r in enumerate(hot["runs"])
        ]
        parts += [
            f"Hot seat ({hot['attempts']} holds of one seat, {hot['runs'][0]['concurrency']} clients): "
            "exactly one winner in "
            f"{hot['exactly_one']}/{len(hot['runs'])} runs"
        ]
        parts += [_table(["run", "attempts", "201", "409", "409 p50 ms", "409 p99 ms", "seconds"], rows), ""]
    if "hot_section" in results:
        rows = [
            [
                i + 1,
                r["seats_held"],
                r["db_live_held_seats"],
                r["overlapping_seats"],
                r["users_served"],
                r["hold_requests"],
                r["latency_201_ms"]["p99"],
                r["latency_409_ms"]["p99"],
                r["elapsed_s"],
            ]
            for i, r in enumerate(results["hot_section"]["runs"])
        ]
        first = results["hot_section"]["runs"][0] if results["hot_section"]["runs"] else {}
        parts += [
            f"Hot section ({first.get('seats')} seats, {first.get('users')} users wanting 1 or 2, "
            f"{first.get('concurrency')} clients):"
        ]
        parts += [
            _table(
                ["run", "seats held", "in db", "overlap", "users served", "requests", "201 p99", "409 p99", "seconds"],
                rows,
            ),
            "",
        ]
    if "full_flow" in results:
        ff = results["full_flow"]
        rows = []
        for level, api in ff["api"].items():
            raw = _level(ff.get("raw", {}), int(level)) or {}
            rows.append(
                [
                    level,
                    api["sales_per_s"],
                    raw.get("sales_per_s"),
                    f"{api['sales_per_s'] / raw['sales_per_s']:.2f}" if raw.get("sales_per_s") else None,
                    api["hold_latency_ms"]["p99"],
                    api["pay_latency_ms"]["p50"],
                    api["pay_latency_ms"]["p99"],
                    raw.get("pay_latency_ms", {}).get("p99"),
                ]
            )
        parts += ["Full flow (hold 1-2 seats, then pay):"]
        parts += [
            _table(
                ["clients", "API sales/s", "raw sales/s", "ratio", "hold p99", "pay p50", "pay p99", "raw pay p99"],
                rows,
            ),
            "",
        ]
    if "chaos" in results:
        rows = [
            [
                c["fault"],
                c["sales"],
                c["hold_statuses"].get("201", 0),
                sum(v for k, v in c["hold_statuses"].items() if k not in ("201", "409")),
                f"{c['hot_bursts_one_winner']}/{c['hot_bursts']}",
                c["hot_bursts_double_hold"],
                c["invariants"]["double_sales"],
                c["invariants"]["lost_events"],
                c["invariants"]["outbox_drain_seconds"],
                "ok" if c["invariants"]["ok"] else "FAIL",
            ]
            for c in results["chaos"]
        ]
        parts += ["Chaos (full flow by 12 clients + 16-way hot-seat bursts, one fault each):"]
        parts += [
            _table(
                [
                    "fault",
                    "sales",
                    "holds",
                    "hold errors",
                    "bursts 1 winner",
                    "double holds",
                    "double sales",
                    "lost events",
                    "drain s",
                    "invariants",
                ],
                rows,
            ),
            "",
        ]
    invariants = results.get("invariants", [])
    bad = [i for i in invariants if not i["ok"]]
    parts.append(
        f"Invariants: {len(invariants) - len(bad)}/{len(invariants)} checks passed"
        + ("" if not bad else " - FAILED: " + "; ".join(f"{i['scenario']}: {', '.join(i['problems'])}" for i in bad))
    )
    cold = results.get("coldstart")
    if cold:
        parts.append(
            f"Cold start: import app {cold['import']['median_ms']:.0f} ms (median of {len(cold['import']['runs_ms'])}; "
            f"target <= 500), chalice package zip {cold['package']['zip_mb']:.1f} MB (target <= 50)"
        )
    return "\n".join(parts)


# plot ----------------------------------------------------------------------------------


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tp = results["throughput"]
    levels = tp["levels"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    series = [
        ("API (edge + Granian)", tp["api"], "tab:blue", "o-"),
        ("raw SQL baseline", tp.get("raw", {}), "tab:gray", "^--"),
    ]
    for label, data, color, style in series:
        xs = [lv for lv in levels if _level(data, lv)]
        left.plot(xs, [_level(data, lv)["holds_per_s"] for lv in xs], style, color=color, label=label)
    left.set_xscale("log", base=2)
    left.set_xticks(levels, [str(lv) for lv in levels])
    left.set_xlabel("concurrent clients")
    left.set_ylabel("successful holds per second")
    left.set_title("Hold throughput (4 instances, 2 cores)")
    left.grid(True, alpha=0.3)
    left.legend(fontsize=8)

    for label, data, color, _style in series:
        xs = [lv for lv in levels if _level(data, lv)]
        for pct, dash in (("p50", ":"), ("p99", "-")):
            ys = [_level(data, lv)["latency_ms"][pct] for lv in xs]
            right.plot(xs, ys, dash, marker="o", color=color, label=f"{label} {pct}", markersize=4)
    right.axhline(50, color="tab:red", linewidth=0.8, linestyle="--", label="target p99 at 16 clients (50 ms)")
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xticks(levels, [str(lv) for lv in levels])
    right.set_xlabel("concurrent clients")
    right.set_ylabel("hold latency (ms, log scale)")
    right.set_title("Hold latency percentiles")
    right.grid(True, alpha=0.3, which="both")
    right.legend(fontsize=7)
    fig.suptitle(f"cinema bench {results['tag']} (commit {results.get('commit', '?')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# REPORT.md -------------------------------------------------------------------------------


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(c) for c in row) + " |")
    return "\n".join(lines)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def _latency_ceiling_row(target: str, measured_ms: float | None, ceiling_ms: float) -> list[Any]:
    return [
        target,
        f"<= {ceiling_ms:g} ms",
        f"{_fmt(measured_ms)} ms",
        _verdict(measured_ms <= ceiling_ms if measured_ms is not None else None),
        f"{measured_ms / ceiling_ms:.1f}x the target" if measured_ms and measured_ms > ceiling_ms else "",
    ]


def _at_least_row(target: str, measured: float | None, floor: float, *, digits: int = 1, detail: str = "") -> list[Any]:
    return [
        target,
        f">= {floor:g}",
        f"{_fmt(measured, digits)}{detail}",
        _verdict(measured >= floor if measured is not None else None),
        f"short by {(floor - measured) / floor * 100:.0f}% of the target"
        if measured is not None and measured < floor
        else "",
    ]


def targets_rows(results: dict[str, Any]) -> list[list[Any]]:
    s = results.get("summary") or summary(results)
    hot = results.get("hot_seat", {})
    runs = len(hot.get("runs", []))
    rows: list[list[Any]] = []
    rows.append(
        [
            "Hot seat: exactly 1 success per run",
            f"{runs} of {runs}",
            f"{hot.get('exactly_one', 0)} of {runs}",
            _verdict(hot.get("exactly_one") == runs and runs > 0),
            "",
        ]
    )
    section = results.get("hot_section", {}).get("runs", [])
    ok_section = all(
        r["seats_held"] == 100 and r["db_live_held_seats"] == 100 and not r["overlapping_seats"] for r in section
    )
    rows.append(
        [
            "Hot section: exactly 100 seats held, no overlap",
            "100, 0 overlap",
            ", ".join(
                f"{r['seats_held']} (db {r['db_live_held_seats']}), overlap {r['overlapping_seats']}" for r in section
            ),
            _verdict(ok_section if section else None),
            "",
        ]
    )
    if "chaos" in results:
        ds = sum(c["invariants"]["double_sales"] for c in results["chaos"])
        le = sum(c["invariants"]["lost_events"] for c in results["chaos"])
        dh = sum(c["hot_bursts_double_hold"] for c in results["chaos"])
        rows.append(
            [
                "Chaos: double sales / lost events",
                "0 / 0",
                f"{ds} / {le} (double holds {dh})",
                _verdict(ds == 0 and le == 0 and dh == 0),
                f"{le} events lost" if le else "",
            ]
        )
    rows.append(_at_least_row("Throughput: holds/s at 16 clients over 4 instances", s.get("holds_per_s_16"), 1100))
    rows.append(
        _at_least_row(
            "Throughput: API / raw SQL at 16 clients",
            s.get("ratio_16"),
            0.33,
            digits=3,
            detail=f" ({_fmt(s.get('holds_per_s_16'))} vs {_fmt(s.get('raw_sql_holds_per_s_16'))} holds/s)",
        )
    )
    rows.append(_latency_ceiling_row("Latency: hold p99 at 16 clients", s.get("p99_ms_16"), 50))
    rows.append(_latency_ceiling_row("Latency: hold p50 at 1 client", s.get("p50_ms_1"), 3))
    rows.append(
        _latency_ceiling_row("Latency: p99 of 409s under hot-seat contention", s.get("hot_seat_409_p99_ms"), 20)
    )
    rows.append(
        _latency_ceiling_row(
            "Latency: hold p99 at 16 clients while slow clients hold connections",
            s.get("p99_ms_16_with_slow_clients"),
            50,
        )
    )
    rows.append(_latency_ceiling_row("CPU: API-process ms per hold", s.get("api_cpu_ms_per_hold"), 1.5))
    refused = s.get("burst_1000_refused")
    rows.append(
        [
            "Burst: 1,000 simultaneous holds of one seat, none refused or reset",
            "0 refused",
            f"{_fmt(refused, 0)} refused, statuses {s.get('burst_1000_statuses')}",
            _verdict(refused == 0 if refused is not None else None),
            "",
        ]
    )
    imp = s.get("import_ms")
    rows.append(
        [
            "Cold start: import app",
            "<= 500 ms",
            f"{_fmt(imp, 0)} ms",
            _verdict(imp <= 500 if imp else None),
            f"{imp - 500:.0f} ms over in this run (import time swings with machine load; see findings)"
            if imp and imp > 500
            else "",
        ]
    )
    mb = s.get("package_mb")
    rows.append(
        ["Cold start: chalice package zip", "<= 50 MB", f"{_fmt(mb)} MB", _verdict(mb <= 50 if mb else None), ""]
    )
    return rows


def _first(results: dict[str, Any], key: str) -> Any:
    runs = results.get("hot_section", {}).get("runs") or [{}]
    return runs[0].get(key)


def _hot_low(results: dict[str, Any]) -> list[str]:
    hot = results.get("hot_seat_low")
    if not hot:
        return []
    return [
        f"- At {hot['concurrency']} clients: 409 p50 {hot['latency_409_ms']['p50']:.1f} ms, "
        f"p99 {hot['latency_409_ms']['p99']:.1f} ms; exactly one winner in {hot['exactly_one']}/"
        f"{len(hot['runs'])} runs.",
        "",
    ]


def markdown(results: dict[str, Any], out_dir: Path) -> str:
    s = results.get("summary") or summary(results)
    cfg = results["config"]
    lines = [
        "# Performance report: holds, sales, contention, chaos, cold start",
        "",
        f"Generated by `make bench-full` (`python -m bench full`), run `{results['tag']}` on commit "
        f"`{results.get('commit', '?')}`, {results['started_at']} to {results.get('finished_at', '?')}. "
        f"Raw numbers: [results.json](results.json). Re-run with `make bench-full`; `make bench` is the "
        "few-minute version that ends with one JSON line.",
        "",
        "## Set-up",
        "",
        f"- Machine: {results['machine']['cores']} cores shared by everything below (and by other people's "
        f"test runs: the bench waits until no pytest runs before each heavy step); load average at start "
        f"{', '.join(f'{x:.2f}' for x in results['machine']['load_at_start'])}.",
        f"- Stack: PostgreSQL, Redis and Kafka from `infra.services up`; `python -m infra.run_local --instances "
        f"{cfg['instances']} --port {cfg['edge_port']}`: {cfg['instances']} Granian processes, each one Chalice "
        "app on its own unix socket (infra/api_server.py), behind the nginx edge on the port "
        f"(infra/edge/nginx.conf.template), plus the sweeper (every {cfg['sweep_interval_s']:g} s), the outbox "
        "relay and the two Kafka consumers (SIGTERM to its process group at the end).",
        f"- Stage `{cfg['stage']}`: the userId in the body is trusted. Abuse limits lifted for the instances "
        f"with `{' '.join(f'{k}={v}' for k, v in cfg['env'].items())}`; every request uses a distinct userId, "
        f"so MAX_HELD_SEATS_PER_USER (20) never applies. Hold TTL {cfg['reservation_ttl_s']} s, seat gate TTL "
        f"{cfg['seat_gate_ttl_ms']} ms, DB pool <= {cfg['db_pool_max_per_instance']} per instance: all defaults.",
        "- Driver (`bench/load.py`): asyncio and a lean keep-alive HTTP/1.1 client (`bench/http_client.py`) "
        "in one process against the edge's one URL, connections opened before the clock starts; closed loop "
        "(N clients = N requests in flight). Latency is measured by the client, send to last byte.",
        "- Raw-SQL baseline (`bench/baseline.py`): the minimal hold the API is measured against, inside the "
        "app's own `Database` (pool, session options): one transaction with one guarded `UPDATE` of the seats, "
        "an `INSERT` of the reservation and one of its outbox row; N threads, no HTTP, Redis or Kafka. Sales "
        "run the real `hold_seats` and `SaleService.confirm` in the app's `UnitOfWork`.",
        "",
        "## Targets",
        "",
        _md_table(["target", "wanted", "measured", "verdict", "by how much"], targets_rows(results)),
        "",
        "## Uniform hold throughput and latency",
        "",
        f"One fresh seat per hold, rotating over many 500-seat sessions; {cfg['api_seconds_per_level']:g} s per "
        f"level for the API, {cfg['raw_seconds_per_level']:g} s for raw SQL. After each level the holds it "
        "left are cancelled through the API and the events drained, so they do not expire (sweeper, relay "
        "and consumers at work) inside a later level's measurement.",
        "",
        _md_table(THROUGHPUT_HEADERS, throughput_rows(results["throughput"])),
        "",
        "![throughput and latency against concurrency](throughput-latency.png)",
        "",
    ]
    variants = results["throughput"].get("raw_variants") or {}
    if variants:
        lines += ["Raw-SQL baseline with one part left out (reference only; the API runs every part):", ""]
        lines += [
            _md_table(
                ["baseline variant", "clients", "holds/s", "p50 ms", "p99 ms"],
                [
                    [name, v["concurrency"], v["holds_per_s"], v["latency_ms"]["p50"], v["latency_ms"]["p99"]]
                    for name, v in variants.items()
                ],
            ),
            "",
        ]
    cpu_rows = cpu_table_rows(results["throughput"])
    if cpu_rows:
        lines += [
            "Where the CPU goes (bench/cpu.py: CPU milliseconds per successful hold, from /proc, per component; "
            "`driver` is the load generator itself - the lean HTTP client for the API, the psycopg threads for "
            "raw SQL; `other` is everything else on the machine meanwhile, e.g. other people's test runs):",
            "",
            _md_table(CPU_HEADERS, cpu_rows),
            "",
        ]
    hot = results["hot_seat"]
    lines += [
        "## Hot seat",
        "",
        f"{hot['attempts']} hold attempts on one seat per run by distinct users, {hot['concurrency']} clients "
        f"through the edge (to the {cfg['instances']} instances), the first {hot['concurrency']} sent together. "
        f"Exactly one winner in **{hot['exactly_one']} of "
        f"{len(hot['runs'])}** runs. 409 latency over all runs: p50 {hot['latency_409_ms']['p50']:.1f} ms, "
        f"p90 {hot['latency_409_ms']['p90']:.1f} ms, p99 {hot['latency_409_ms']['p99']:.1f} ms.",
        "",
        _md_table(
            ["run", "201", "409", "other", "409 p50 ms", "409 p99 ms", "attempts/s", "invariants"],
            [
                [
                    i + 1,
                    r["successes"],
                    r["statuses"].get("409", 0),
                    sum(v for k, v in r["statuses"].items() if k not in ("201", "409")),
                    r["latency_409_ms"]["p50"],
                    r["latency_409_ms"]["p99"],
                    r["attempts_per_s"],
                    "ok" if r["invariants_ok"] else "FAIL",
                ]
                for i, r in enumerate(hot["runs"])
            ],
        ),
        "",
        *_hot_low(results),
        "## Hot section",
        "",
        f"{_first(results, 'seats')} seats, {_first(results, 'users')} users wanting 1 or 2 seats (adjacent when "
        f"possible), {_first(results, 'concurrency')} clients. A user picks from "
        "its view of the free seats (GET /sessions/{id}/seats, refreshed at most every 100 ms), retries up to "
        "6 times after a 409 and gives up when a view taken after its last 409 has too few seats. Checked "
        "against the database: "
        "seats under live holds, and no seat in two live reservations.",
        "",
        _md_table(
            [
                "run",
                "seats held (201s)",
                "live held in DB",
                "overlap",
                "users served",
                "hold requests",
                "statuses",
                "201 p99 ms",
                "409 p99 ms",
                "seconds",
            ],
            [
                [
                    i + 1,
                    r["seats_held"],
                    r["db_live_held_seats"],
                    r["overlapping_seats"],
                    r["users_served"],
                    r["hold_requests"],
                    " ".join(f"{k}:{v}" for k, v in r["statuses"].items()),
                    r["latency_201_ms"]["p99"],
                    r["latency_409_ms"]["p99"],
                    r["elapsed_s"],
                ]
                for i, r in enumerate(results["hot_section"]["runs"])
            ],
        ),
        "",
        "## Full flow: hold, then pay",
        "",
    ]
    ff = results["full_flow"]
    rows = []
    for level, api in ff["api"].items():
        raw = _level(ff.get("raw", {}), int(level)) or {}
        rows.append(
            [
                level,
                api["sales_per_s"],
                raw.get("sales_per_s"),
                f"{api['sales_per_s'] / raw['sales_per_s']:.2f}" if raw.get("sales_per_s") else None,
                api["hold_latency_ms"]["p50"],
                api["hold_latency_ms"]["p99"],
                api["pay_latency_ms"]["p50"],
                api["pay_latency_ms"]["p99"],
                raw.get("pay_latency_ms", {}).get("p50"),
                raw.get("pay_latency_ms", {}).get("p99"),
            ]
        )
    lines += [
        _md_table(
            [
                "clients",
                "API sales/s",
                "raw sales/s",
                "ratio",
                "hold p50",
                "hold p99",
                "pay p50",
                "pay p99",
                "raw pay p50",
                "raw pay p99",
            ],
            rows,
        ),
        "",
    ]
    if "chaos" in results:
        lines += [
            "## Chaos",
            "",
            "Each run: 12 clients doing hold-then-pay on fresh seats, plus a hot-seat burst every ~0.7 s (16 "
            "users, one seat, spread over the instances; the winner pays); the fault is injected 4 s in and "
            "the load runs on until 4 s after it ends. Then the invariant checker (which waits for the outbox "
            "to drain). A burst with two winners would be a double hold; 'no winner' bursts are those where "
            "every contender got an error (an instance or dependency was down).",
            "",
            _md_table(
                [
                    "fault",
                    "what",
                    "sales",
                    "hold statuses",
                    "pay statuses",
                    "bursts: 1 / 0 / 2+ winners",
                    "double sales",
                    "lost events (sale.confirmed among them)",
                    "dup deliveries",
                    "outbox drain s",
                    "invariants",
                    "fault details",
                ],
                [
                    [
                        c["fault"],
                        c["summary"],
                        c["sales"],
                        " ".join(f"{k}:{v}" for k, v in c["hold_statuses"].items()),
                        " ".join(f"{k}:{v}" for k, v in c["pay_statuses"].items()),
                        f"{c['hot_bursts_one_winner']} / {c['hot_bursts_no_winner']} / {c['hot_bursts_double_hold']}",
                        c["invariants"]["double_sales"],
                        f"{c['invariants']['lost_events']} ({c['invariants']['sales_without_event']} sales)",
                        c["invariants"]["duplicate_deliveries"],
                        c["invariants"]["outbox_drain_seconds"],
                        "ok" if c["invariants"]["ok"] else "FAIL: " + ", ".join(c["invariants"]["problems"]),
                        ", ".join(f"{k}={v}" for k, v in c["fault_info"].items()),
                    ]
                    for c in results["chaos"]
                ],
            ),
            "",
        ]
    if "chaos" in results:
        notes = [f"- `{c['fault']}`: {c['note']}." for c in results["chaos"] if c.get("note")]
        if notes:
            lines += [*notes, ""]
    if "final_expiry" in results:
        fe = results["final_expiry"]
        lines += [
            f"Expiry after everything: waited for the run's last hold to lapse plus a sweep; "
            f"{fe['still_pending']} reservations still pending, {fe['overdue_pending']} overdue beyond "
            f"{fe['allowed_overdue_seconds']:g} s (worst {fe['max_overdue_seconds']:g} s past expiry).",
            "",
        ]
    invariants = results.get("invariants", [])
    lines += [
        "## Invariants",
        "",
        "`bench/invariants.py` after every run, scoped to the run's sessions: no seat in two sales; sold "
        "seats = seats of sales (same reservation); no seat in two live reservations, live holds own their "
        "seat rows; the outbox drains to zero (waits for the relay; the global count, which includes other "
        "users of the database, is reported too); every sale has exactly one `sale.confirmed` (by eventId "
        "and by saleId) on `cinema.booking-events`, read with assign() from offset 0 to the high watermark, "
        "and every published outbox event of the run is on the topic; no pending reservation past its "
        "expiry by more than the sweep interval + 1 s. Raw-SQL baseline sessions are left out of the Kafka "
        "checks (the baseline has no Kafka).",
        "",
        _md_table(
            [
                "after",
                "ok",
                "sales",
                "double sales",
                "double holds",
                "lost events",
                "dup deliveries",
                "outbox drain s",
                "worst overdue s",
                "problems",
            ],
            [
                [
                    i["scenario"],
                    "yes" if i["ok"] else "**no**",
                    i["sales"],
                    i["double_sales"],
                    i["double_holds"],
                    i["lost_events"],
                    i["duplicate_deliveries"],
                    i["outbox_drain_seconds"],
                    i["max_overdue_seconds"],
                    ", ".join(i["problems"]),
                ]
                for i in invariants
            ],
        ),
        "",
    ]
    cold = results.get("coldstart")
    if cold:
        lines += [
            "## Cold start",
            "",
            f'`python -X importtime -c "import app"`: median {cold["import"]["median_ms"]:.0f} ms over '
            f"{len(cold['import']['runs_ms'])} runs after a warm-up (runs: "
            f"{', '.join(f'{x:.0f}' for x in cold['import']['runs_ms'])} ms); target <= 500 ms. "
            f"`chalice package --stage local`: deployment.zip {cold['package']['zip_mb']:.1f} MB; target <= 50 MB.",
            "",
        ]
        if cold.get("slowest_imports"):
            lines += [
                "Slowest imports under `app` (cumulative, one run):",
                "",
                _md_table(
                    ["module", "depth", "cumulative ms", "self ms"],
                    [[m["module"], m["depth"], m["cumulative_ms"], m["self_ms"]] for m in cold["slowest_imports"]],
                ),
                "",
            ]
    lines += ["## Findings and recommended fixes", ""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    else:
        lines += ["(docs/perf/findings.md is missing.)", ""]
    lines += ["## Summary line", "", "```json", __import__("json").dumps(s), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Re-render docs/perf/REPORT.md and the plot from a results.json (after editing findings.md)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path, nargs="?", default=FINDINGS.parent / "results.json")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    out = args.results.parent
    plot(results, out / "throughput-latency.png")
    (out / "REPORT.md").write_text(markdown(results, out))
    print(f"wrote {out / 'REPORT.md'} and {out / 'throughput-latency.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
