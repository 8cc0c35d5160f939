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
METRICS_NAMESPACE = "CinemaTicketing"
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
    services = container()
    published = services.relay.drain()
    age = report_outbox_age()
    log = logger.info if published else logger.debug
    log("outbox relay finished", extra={"published": published, "outboxAge": age, "scheduledEventId": event.event_id})
    return {"published": published, "outboxAgeSeconds": age}


def report_outbox_age() -> float:
    """The age of the oldest unpublished event, as the metric the app stack's outbox-age
    alarm watches (``CinemaTicketing/OutboxOldestPendingAge``, dimension ``stage``)."""
    from chalicelib.adapters.outbox_age import oldest_pending_age_seconds

    services = container()
    with services.db.transaction() as cur:
        age = round(oldest_pending_age_seconds(cur), 3)
    if services.settings.aws_lambda_function_name:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name="OutboxOldestPendingAge", unit=MetricUnit.Seconds, value=age, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension(name="stage", value=services.settings.stage)
    return age
