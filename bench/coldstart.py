"""Cold start: how long ``import app`` takes, and how big the Lambda zip is.

- ``python -X importtime -c "import app"``: the cumulative time of the top-level ``app``
  import (the line whose module is exactly ``app``). Run ``runs`` times after one warm-up
  run (which may write .pyc files); the median is reported. Target <= 500 ms.
- ``chalice package --stage local DIR``: the size of ``DIR/deployment.zip``. Target <= 50 MB.

    python -m bench.coldstart            # prints JSON
    python -m bench.coldstart --top 25   # and the 25 slowest imports (cumulative)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stack import PROJECT_ROOT, PYTHON

IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def import_profile() -> list[tuple[int, int, int, str]]:
    """One ``-X importtime`` run: (self_us, cumulative_us, depth, module) per line."""
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import app"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append((int(match.group(1)), int(match.group(2)), depth, match.group(4)))
    return rows


def app_import_ms(rows: list[tuple[int, int, int, str]]) -> float:
    for _self_us, cumulative_us, depth, module in rows:
        if module == "app" and depth == 0:
            return cumulative_us / 1000
    raise RuntimeError("no top-level 'app' line in -X importtime output")


def import_time(runs: int = 5) -> dict[str, object]:
    import_profile()  # warm-up (bytecode caches)
    samples = [app_import_ms(import_profile()) for _ in range(runs)]
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "runs_ms": samples}


def slowest_imports(top: int) -> list[dict[str, object]]:
    rows = import_profile()
    direct = sorted((r for r in rows if r[2] <= 3), key=lambda r: r[1], reverse=True)[:top]
    return [{"module": m, "cumulative_ms": c / 1000, "self_ms": s / 1000, "depth": d} for s, c, d, m in direct]


def package_size() -> dict[str, object]:
    out_dir = Path(tempfile.mkdtemp(prefix="cinema-bench-pkg-"))
    try:
        chalice = Path(PYTHON).parent / "chalice"
        subprocess.run(
            [str(chalice), "package", "--stage", "local", str(out_dir / "pkg")],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
        )
        size = (out_dir / "pkg" / "deployment.zip").stat().st_size
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return {"zip_bytes": size, "zip_mb": size / 1_000_000}


def measure(runs: int = 5) -> dict[str, object]:
    return {"import": import_time(runs), "package": package_size()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args(argv)
    result: dict[str, object] = measure(args.runs)
    if args.top:
        result["slowest_imports"] = slowest_imports(args.top)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
