"""Chalice application: wires middleware and blueprints, nothing else."""

from chalice import Chalice, ConvertToMiddleware

from chalicelib.api.auth import auth_api
from chalicelib.api.docs import docs_api
from chalicelib.api.errors import chalice_answers_in_error_shape
from chalicelib.api.health import health_api
from chalicelib.api.metrics import metrics_api
from chalicelib.api.middleware import correlate_and_log
from chalicelib.api.reservations import reservations_api
from chalicelib.api.sales import sales_api
from chalicelib.api.sessions import sessions_api
from chalicelib.api.web import web_api
from chalicelib.jobs.consumers import consumer_functions
from chalicelib.jobs.functions import functions
from chalicelib.jobs.scheduled import scheduled_jobs
from chalicelib.observability import TRACING, logger, metrics, trace_function

app = Chalice(app_name="cinema-ticketing")
# Powertools once, for every function: HTTP, scheduled, Kafka consumers and migrate.
app.register_middleware(
    # The correlation id is set per request by correlate_and_log (API Gateway's request id).
    ConvertToMiddleware(logger.inject_lambda_context())
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
if TRACING:
    app.register_middleware(ConvertToMiddleware(trace_function))
app.register_middleware(correlate_and_log, "http")
app.register_middleware(chalice_answers_in_error_shape, "http")

for blueprint in (
    auth_api,
    health_api,
    sessions_api,
    reservations_api,
    sales_api,
    metrics_api,
    docs_api,
    web_api,
    scheduled_jobs,
    consumer_functions,
    functions,
):
    app.register_blueprint(blueprint)
