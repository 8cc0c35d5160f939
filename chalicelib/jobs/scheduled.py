"""Scheduled functions: the expiry sweeper and the outbox relay.

In AWS, EventBridge invokes each once a minute. Locally ``make run`` invokes the same
handlers with real scheduled-event payloads every few seconds (infra/run_local.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from chalice import Blueprint, Rate

from chalicelib.bootstrap import container

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent

scheduled_jobs = Blueprint(__name__)
logger = Logger(service="cinema-jobs")


@scheduled_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="expire_reservations")
def expire_reservations(event: CloudWatchEvent) -> dict[str, Any]:
    expired = container().expiry.sweep()
    # An idle tick every few seconds is not news; only work done is logged at INFO.
    log = logger.info if expired else logger.debug
    log("expiry sweep finished", extra={"expired": expired, "scheduledEventId": event.event_id})
    return {"expired": expired}


@scheduled_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="relay_outbox")
def relay_outbox(event: CloudWatchEvent) -> dict[str, Any]:
    published = container().relay.drain()
    log = logger.info if published else logger.debug
    log("outbox relay finished", extra={"published": published, "scheduledEventId": event.event_id})
    return {"published": published}
