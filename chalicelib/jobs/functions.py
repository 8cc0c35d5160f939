"""Plain Lambda functions that are not triggered by HTTP or a schedule."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.config import get_settings
from chalicelib.observability import logger

functions = Blueprint(__name__)


@functions.lambda_function(name="migrate")
def migrate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply the SQL migrations and create the missing Kafka topics; idempotent.

    ``infra/stacks.py`` invokes it after every app stack deploy and fails the deploy when it
    fails (the error reaches the caller as the invocation's FunctionError).
    """
    # yoyo and the Kafka admin client are imported here, not at module level: every other
    # function shares this module and should not pay for loading them.
    from chalicelib.adapters.kafka_topics import ensure_topics
    from chalicelib.jobs.migrate import apply_migrations

    settings = get_settings()
    applied = apply_migrations(settings.database_url)
    created = ensure_topics(settings)
    logger.info("migrations applied", extra={"applied": applied, "topicsCreated": created})
    return {"applied": applied, "topicsCreated": created}
