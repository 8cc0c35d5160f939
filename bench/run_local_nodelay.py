"""``infra.run_local`` whose API instances run ``bench.chalice_nodelay`` instead of
``chalice`` (everything else, workers included, unchanged). Prototype of the fix only."""

from __future__ import annotations

import sys

from infra import run_local


def api_command(port: int, stage: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.chalice_nodelay",
        "local",
        "--no-autoreload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--stage",
        stage,
    ]


if __name__ == "__main__":
    run_local.api_command = api_command
    sys.exit(run_local.main())
