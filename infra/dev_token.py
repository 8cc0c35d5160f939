"""``make token USER=alice [ADMIN=1]``: print a Bearer token signed with the development key
of a stage in .chalice/config.json (``local`` by default). For local development only.

    python -m infra.dev_token alice --admin --stage test
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from chalicelib.adapters.tokens import issue_token

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def token_for(user: str, *, admin: bool, stage: str = "local", ttl_seconds: int = 3600) -> str:
    env = stage_environment(stage)
    if env.get("JWT_ALGORITHMS", "RS256") != "HS256" or not env.get("JWT_SECRET"):
        raise SystemExit(f"stage {stage!r} has no local development key (it expects real tokens)")
    return issue_token(
        user,
        admin=admin,
        secret=env["JWT_SECRET"],
        issuer=env["JWT_ISSUER"],
        audience=env["JWT_AUDIENCE"],
        ttl_seconds=ttl_seconds,
        now=int(time.time()),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("user")
    parser.add_argument("--admin", action="store_true")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--ttl", type=int, default=3600)
    args = parser.parse_args(argv)
    print(token_for(args.user, admin=args.admin, stage=args.stage, ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
