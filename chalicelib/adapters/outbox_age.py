"""How long the oldest unpublished event has waited: the outbox-age alarm's metric."""

from __future__ import annotations

from chalicelib.adapters.database import Cursor


def oldest_pending_age_seconds(cur: Cursor) -> float:
    """Seconds since the oldest event still to publish was written (0 when none waits), by
    the database clock; dead-lettered rows do not count, the DLQ alarm covers them."""
    cur.execute(
        """
        SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
        FROM outbox WHERE published_at IS NULL AND dead_at IS NULL
        """
    )
    row = cur.fetchone()
    return float(row["age"]) if row else 0.0
