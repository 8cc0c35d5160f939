"""Two things AWS does that moto 5.2.5 does not, added to the in-process moto server.

The deploy tool makes the same calls against AWS, LocalStack and moto. Two of them moto
cannot record, so without help the tests could not see that the tool made them:

1. **MSK event-source mappings.** ``CreateEventSourceMapping`` in moto accepts only SQS,
   DynamoDB-stream and Kinesis ARNs; an MSK cluster ARN is refused with
   ``ResourceNotFoundException: Invalid EventSourceArn`` (and its model raises
   ``Unsupported event source type``). Here a mapping whose source is a ``kafka`` ARN is
   stored as AWS stores it (function, cluster, topics, starting position, consumer group);
   every other source still goes through moto unchanged.
2. **Dead-letter config.** moto's Lambda ignores ``DeadLetterConfig`` in ``CreateFunction``
   and ``UpdateFunctionConfiguration`` and never returns it. Here it is kept and returned
   in ``GetFunction``/``GetFunctionConfiguration``, as AWS does.

Both patches only record what the request carried; they add no behaviour the tests then
assert on by themselves. ``test_moto_gaps.py`` proves the gaps are still there, so these
patches go away as soon as moto fills them.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.awslambda import models as lambda_models

_original_create_mapping = lambda_models.LambdaBackend.create_event_source_mapping
_original_init = lambda_models.LambdaFunction.__init__
_original_get_configuration = lambda_models.LambdaFunction.get_configuration
_original_update_configuration = lambda_models.LambdaFunction.update_configuration


class MskEventSourceMapping(lambda_models.EventSourceMapping):
    """moto's mapping, allowed to read from an MSK cluster."""

    @property
    def event_source_arn(self) -> str:
        return self._event_source_arn

    @event_source_arn.setter
    def event_source_arn(self, value: str) -> None:
        self._event_source_arn = value

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int | None) -> None:
        if value is not None and not 1 <= int(value) <= 10_000:
            raise ValueError("InvalidParameterValueException", f"BatchSize {value} is out of range")
        self._batch_size = int(value or 100)


def _create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
    arn = str(spec.get("EventSourceArn") or "")
    if arn.split(":")[2:3] != ["kafka"]:
        return _original_create_mapping(self, spec)
    function = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    mapping = MskEventSourceMapping(
        {**spec, "RegionName": self.region_name, "AccountId": self.account_id, "FunctionArn": function.function_arn}
    )
    self._event_source_mappings[mapping.uuid] = mapping
    return mapping


def _init(self: Any, account_id: str, spec: dict[str, Any], region: str, version: str | int = 1) -> None:
    _original_init(self, account_id, spec, region, version)
    self.dead_letter_config = spec.get("DeadLetterConfig")


def _get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
    configuration = _original_get_configuration(self, on_create)
    if getattr(self, "dead_letter_config", None):
        configuration["DeadLetterConfig"] = self.dead_letter_config
    return configuration


def _update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
    if "DeadLetterConfig" in config_updates:
        self.dead_letter_config = config_updates["DeadLetterConfig"]
    return _original_update_configuration(self, config_updates)


def fill_moto_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_models.LambdaBackend, "create_event_source_mapping", _create_event_source_mapping)
    monkeypatch.setattr(lambda_models.LambdaFunction, "__init__", _init)
    monkeypatch.setattr(lambda_models.LambdaFunction, "get_configuration", _get_configuration)
    monkeypatch.setattr(lambda_models.LambdaFunction, "update_configuration", _update_configuration)
