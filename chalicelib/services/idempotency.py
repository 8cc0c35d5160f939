"""Idempotent commands (``Idempotency-Key``) on Powertools Idempotency with Redis storage.

- The key is scoped by operation and user, so two users can never collide on a key.
- The request body is validated against the first one: a reused key with a different body
  is rejected.
- A duplicate arriving while the first is still running is told to retry later (409).
- An in-progress record lapses after ``IN_PROGRESS_BUDGET_MS``, so a request whose process
  died can be retried with the same key.
- When Redis is unavailable the command still runs, just without replay protection; the
  database guards still prevent double holds and double sales.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.cache import CachePersistenceLayer

from chalicelib.domain.errors import IdempotencyKeyReused, RetryLater
from chalicelib.observability import count, logger, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    from chalicelib.adapters.redis_client import FailFastRedis


IN_PROGRESS_BUDGET_MS = 10_000


class _ValidatingRedisPersistence(CachePersistenceLayer):
    """Powertools' Redis layer (3.37) drops the payload hash when it records the result, so
    every replay would fail payload validation. Keep the hash on the completed record. Each
    of its calls to Redis is a ``Redis`` trace subsegment, as every other call is."""

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with traced("Redis"):
            return super()._get_record(idempotency_key)

    def _put_record(self, data_record: DataRecord) -> None:
        with traced("Redis"):
            super()._put_record(data_record)

    def _delete_record(self, data_record: DataRecord) -> None:
        with traced("Redis"):
            super()._delete_record(data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        mapping: dict[str, Any] = {
            self.data_attr: data_record.response_data,
            self.status_attr: data_record.status,
            self.expiry_attr: data_record.expiry_timestamp,
        }
        if self.payload_validation_enabled:
            mapping[self.validation_key_attr] = data_record.payload_hash
        ttl = self._get_expiry_second(data_record.expiry_timestamp)
        with traced("Redis"):
            self.client.set(name=data_record.idempotency_key, value=self._json_serializer(mapping), ex=ttl)


class _RequestBudget:
    """Stands in for the Lambda context Powertools reads the in-progress deadline from."""

    def get_remaining_time_in_millis(self) -> int:
        return IN_PROGRESS_BUDGET_MS


class IdempotentCommands:
    def __init__(self, redis_client: FailFastRedis, ttl_seconds: int) -> None:
        self._redis = redis_client
        config = IdempotencyConfig(
            event_key_jmespath="[operation, userId, key]",
            payload_validation_jmespath="payload",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
        )
        config.register_lambda_context(_RequestBudget())  # type: ignore[arg-type]
        persistence = _ValidatingRedisPersistence(client=redis_client.client)  # type: ignore[arg-type]

        @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)
        def _run(request: dict[str, Any], execute: Callable[[], dict[str, Any]], outcome: dict[str, Any]) -> dict:
            outcome["result"] = execute()
            return outcome["result"]

        self._run = _run

    def run(
        self,
        operation: str,
        key: str | None,
        user_id: str,
        payload: dict[str, Any],
        execute: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        if not key or not self._redis.available:
            return execute()
        outcome: dict[str, Any] = {}
        request = {"operation": operation, "userId": user_id, "key": key, "payload": payload}
        try:
            result = self._run(request=request, execute=execute, outcome=outcome)
        except IdempotencyAlreadyInProgressError as exc:
            raise RetryLater("a request with this Idempotency-Key is already in progress") from exc
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request body") from exc
        except (IdempotencyPersistenceLayerError, IdempotencyItemAlreadyExistsError) as exc:
            logger.warning("idempotency store unavailable, running without it: %s", exc)
            if "result" in outcome:  # the command ran; only recording its result failed
                return outcome["result"]
            return execute()
        if "result" not in outcome:  # the command did not run: this is the first answer again
            count("IdempotentReplays")
        return result
