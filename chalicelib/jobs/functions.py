"""Plain Lambda functions that are not triggered by HTTP or a schedule."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from chalice import Blueprint

from chalicelib.config import get_settings

functions = Blueprint(__name__)
logger = Logger(service="cinema-migrate")


@functions.lambda_function(name="migrate")
def migrate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # yoyo is imported here, not at module level: every other function shares this module
    # and should not pay for loading it.
    from chalicelib.jobs.migrate import apply_migrations

    applied = apply_migrations(get_settings().database_url)
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
