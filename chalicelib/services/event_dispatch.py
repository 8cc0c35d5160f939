"""The fast path out of the outbox: publish right after the transaction commits.

Whatever this misses (Kafka down, process killed between commit and publish) stays
unpublished in the outbox and the relay sends it later, so no event is lost; a message sent
by both paths carries the same event id and consumers drop the second copy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.outbox_repository import OutboxMessage, OutboxRepository

logger = logging.getLogger(__name__)


class EventDispatcher:
    def __init__(self, db: Database, outbox: OutboxRepository, publisher: EventPublisher) -> None:
        self._db = db
        self._outbox = outbox
        self._publisher = publisher

    def after_commit(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages or self._publisher.recently_failed:
            return
        waiting_keys = {m.key for m in messages if m.behind_unpublished}
        sendable = [m for m in messages if m.key not in waiting_keys]
        if not sendable:
            return
        try:
            report = self._publisher.publish(sendable)
            if report.delivered:
                with self._db.autocommit() as cur:
                    self._outbox.mark_published(cur, report.delivered)
            if report.failed:
                logger.warning(
                    "fast-path publish incomplete; the relay will retry", extra={"failed": len(report.failed)}
                )
        except Exception:  # the booking is committed; publishing is the relay's job from here
            logger.exception("fast-path publish failed; the relay will retry")
