"""Chalice application: wires middleware and blueprints, nothing else."""

from chalice import Chalice

from chalicelib.api.health import health_api
from chalicelib.api.middleware import log_request
from chalicelib.api.reservations import reservations_api
from chalicelib.api.sales import sales_api
from chalicelib.api.sessions import sessions_api
from chalicelib.jobs.functions import functions
from chalicelib.jobs.scheduled import scheduled_jobs

app = Chalice(app_name="cinema-ticketing")
app.register_middleware(log_request, "http")

for blueprint in (health_api, sessions_api, reservations_api, sales_api, scheduled_jobs, functions):
    app.register_blueprint(blueprint)
