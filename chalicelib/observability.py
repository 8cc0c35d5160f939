"""Logs, metrics and traces, through Powertools: one Logger, one Metrics and one Tracer per
process, configured by Powertools' own environment variables, which each stage of
.chalice/config.json sets:

- ``POWERTOOLS_SERVICE_NAME``: the service of every log line, metric and trace;
- ``POWERTOOLS_LOG_LEVEL``: INFO in the AWS stages, WARNING locally;
- ``POWERTOOLS_METRICS_NAMESPACE``: one CloudWatch namespace per stage;
  ``POWERTOOLS_METRICS_DISABLED``: true locally, so no EMF is printed;
- ``POWERTOOLS_TRACE_DISABLED``: true locally (X-Ray exists in Lambda only).

app.py applies them once, as middleware, to every function (HTTP, scheduled, Kafka
consumers, migrate). The rest of the code only says what happened (``count``)
and where it waited (``traced``).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

__all__ = ["TRACING", "MetricUnit", "count", "logger", "metrics", "trace_function", "traced", "tracer"]

logger = Logger()
metrics = Metrics()
# Most requests (a seat map, a health check) count nothing: that is not worth a warning each.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
# Powertools' own rule: off when POWERTOOLS_TRACE_DISABLED says so, outside Lambda, and under
# chalice local or SAM local.
TRACING = not Tracer._is_tracer_disabled()


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    """The Tracer, built where tracing is on only: building one loads the X-Ray SDK and
    botocore (about half a second of a cold start), which no process without X-Ray needs."""
    return Tracer()


def count(name: str, value: float = 1, *, unit: MetricUnit = MetricUnit.Count, **dimension: str) -> None:
    """Add to a metric of this invocation. With one dimension (``cause="gate"``) the value is
    published on its own, under that dimension as well as the service.

    Nothing at all when metrics are disabled: Powertools would still buffer the value, never
    flush it, and print the buffer every 100th value (and single_metric prints every time)."""
    if is_metrics_disabled():
        return
    if not dimension:
        metrics.add_metric(name=name, unit=unit, value=value)
        return
    ((key, label),) = dimension.items()
    with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="service", value=metrics.service or "")
        metric.add_dimension(name=key, value=label)


def trace_function(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Powertools' ``capture_lambda_handler``, its subsegment named after the Lambda function
    (``## cinema-ticketing-prod-APIHandler``): Chalice's ConvertToMiddleware hands it a
    function named after the wrapper, which would name every function's subsegment alike."""

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        handler.__name__ = getattr(context, "function_name", None) or handler.__name__
        return tracer().capture_lambda_handler(handler)(event, context)

    return invoke


@contextlib.contextmanager
def traced(name: str) -> Iterator[Any]:
    """An X-Ray subsegment around a call to PostgreSQL, Redis or Kafka; nothing at all when
    tracing is off, since this sits on every request's path."""
    if not TRACING:
        yield None
        return
    with tracer().provider.in_subsegment(name=name) as subsegment:
        yield subsegment
