"""Small helpers every blueprint uses: strict body parsing, path ids, JSON answers, and
the decorator that routes every failure through ``chalicelib.api.errors``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import RequestRejected

MAX_BODY_BYTES = 16 * 1024

M = TypeVar("M", bound=BaseModel)


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "body"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{location}: {message}"


def parse_body(raw_body: str | bytes | None, model: type[M]) -> M:
    if raw_body and len(raw_body) > MAX_BODY_BYTES:
        raise RequestRejected(f"request body larger than {MAX_BODY_BYTES} bytes", status=413)
    if not raw_body:
        raise RequestRejected("request body must be a JSON object")
    try:
        document = json.loads(raw_body, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestRejected(f"malformed JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise RequestRejected("request body must be a JSON object")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        details = [_describe(error) for error in exc.errors()]  # type: ignore[arg-type]
        raise RequestRejected("invalid request: " + "; ".join(details), details=details) from exc


def path_uuid(value: str, name: str) -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError) as exc:
        raise RequestRejected(f"{name} must be a UUID") from exc


def query_int(params: Mapping[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise RequestRejected(f"{name} must be an integer between {low} and {high}")
    return int(raw)


def json_response(payload: BaseModel | list[BaseModel] | dict[str, Any] | None, status: int = 200) -> Response:
    if payload is None:
        return Response(body="", status_code=status)
    if isinstance(payload, dict):
        body = json.dumps(payload, separators=(",", ":"))
    elif isinstance(payload, list):
        body = "[" + ",".join(item.model_dump_json() for item in payload) + "]"
    else:
        body = payload.model_dump_json()
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})
