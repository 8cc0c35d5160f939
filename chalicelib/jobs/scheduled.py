"""Scheduled functions: the expiry sweeper and the outbox relay.

In AWS, EventBridge invokes each once a minute. Locally ``make run`` invokes the same
handlers with real scheduled-event payloads every few seconds (infra/run_local.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate

from chalicelib.bootstrap import container
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent

scheduled_jobs = Blueprint(__name__)


@scheduled_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="expire_reservations")
def expire_reservations(event: CloudWatchEvent) -> dict[str, Any]:
    expired = container().expiry.sweep()
    # An idle tick every few seconds is not news; only work done is logged at INFO.
    log = logger.info if expired else logger.debug
    log("expiry sweep finished", extra={"expired": expired, "scheduledEventId": event.event_id})
    return {"expired": expired}


@scheduled_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="relay_outbox")
def relay_outbox(event: CloudWatchEvent) -> dict[str, Any]:
    relay = container().relay
    published = relay.drain()
    backlog = relay.backlog()  # OutboxBacklog and OutboxOldestPendingAge, every run
    log = logger.info if published else logger.debug
    log(
        "outbox relay finished",
        extra={"published": published, "outboxBacklog": backlog.waiting, "scheduledEventId": event.event_id},
    )
    return {"published": published, "outboxBacklog": backlog.waiting, "outboxAgeSeconds": backlog.oldest_age_seconds}
