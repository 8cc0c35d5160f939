"""Small helpers every blueprint uses: strict body parsing, path ids, JSON answers, and
the decorator that routes every failure through ``chalicelib.api.errors``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from chalice import Response
from chalice.app import Request
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


# RFC 3339 date-times (what OpenAPI's format "date-time" means): a time zone is required.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def query_datetime(params: Mapping[str, str] | None, name: str) -> datetime | None:
    raw = (params or {}).get(name)
    if raw is None:
        return None
    problem = f"{name} must be a date-time with a time zone, like 2026-02-10T19:00:00Z (send + as %2B)"
    if not _DATE_TIME.fullmatch(raw):
        raise RequestRejected(problem)
    try:
        return datetime.fromisoformat(raw.upper()).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise RequestRejected(problem) from exc


def query_text(params: Mapping[str, str] | None, name: str, max_length: int) -> str | None:
    """A free-text parameter; empty means not given."""
    raw = (params or {}).get(name)
    if not raw:
        return None
    if len(raw) > max_length:
        raise RequestRejected(f"{name} must be at most {max_length} characters")
    if any(ord(char) < 32 or 0xD800 <= ord(char) <= 0xDFFF for char in raw):
        # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded at all.
        raise RequestRejected(f"{name} must not contain control characters or unpaired surrogates")
    return raw


def request_url(request: Request, query: Mapping[str, str]) -> str:
    """The absolute URL of the current resource with another query string, as the client
    addressed it: API Gateway's ``requestContext.path`` keeps the stage prefix (``/prod/...``)."""
    context = request.context or {}
    host = request.headers.get("host") or context.get("domainName") or "localhost"
    scheme = (request.headers.get("x-forwarded-proto") or "http").split(",")[0].strip().lower()
    path = context.get("path") or request.path
    return f"{scheme}://{host}{path}?{urlencode(query)}"


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
