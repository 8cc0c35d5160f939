"""Plain Lambda functions that are not triggered by HTTP or a schedule."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from chalice import Blueprint

from chalicelib.config import get_settings
from chalicelib.jobs.migrate import apply_migrations

functions = Blueprint(__name__)
logger = Logger(service="cinema-migrate")


@functions.lambda_function(name="migrate")
def migrate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    applied = apply_migrations(get_settings().database_url)
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
