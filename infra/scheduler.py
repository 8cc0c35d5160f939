"""Local stand-in for an EventBridge schedule: invokes a scheduled Chalice handler with a
real scheduled-event payload every ``--interval`` seconds.

    python -m infra.scheduler expire_reservations --interval 5
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


def scheduled_event(rule: str) -> dict[str, Any]:
    """The payload EventBridge sends to a target of a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


class InvocationContext:
    """The parts of a Lambda context object handlers read."""

    def __init__(self, function_name: str, timeout_seconds: float = 60.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("job", choices=["expire_reservations", "relay_outbox"])
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)

    # Through the app, as in Lambda: its middleware (logs, metrics, traces) wraps the handler.
    import app  # noqa: F401
    from chalicelib.jobs import scheduled

    handler = getattr(scheduled, args.job)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        started = time.monotonic()
        try:
            handler(scheduled_event(f"cinema-ticketing-local-{args.job}"), InvocationContext(args.job))
        except Exception as exc:  # a failed tick is logged and the next one runs, as with EventBridge
            print(f"[scheduler] {args.job} failed: {exc!r}", file=sys.stderr, flush=True)
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
