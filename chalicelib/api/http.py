"""Small helpers every blueprint uses: strict body parsing, path ids, JSON answers, and
the decorator that routes every failure through ``chalicelib.api.errors``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from chalice import Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import RequestRejected
from chalicelib.api.schemas import CONTROL_CHARACTERS, has_control_characters

MAX_BODY_BYTES = 16 * 1024
# The deepest request body the API takes is two levels ({"seatIds": [...]}). Past this the body
# is refused before it is parsed, so no parser ever recurses on a client's say-so.
MAX_JSON_DEPTH = 32

M = TypeVar("M", bound=BaseModel)


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "body"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{location}: {message}"


# What a nesting count needs to see of a JSON text: quotes, backslashes and brackets.
_JSON_STRUCTURE = re.compile(r'["\\\[\]{}]')


def _check_nesting(text: str) -> None:
    """One pass over the text, linear whatever it holds; brackets inside strings are text."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_STRUCTURE.finditer(text):
        char, at = match.group(), match.start()
        if at == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise RequestRejected(f"malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def parse_body(raw_body: str | bytes | None, model: type[M]) -> M:
    if raw_body and len(raw_body) > MAX_BODY_BYTES:
        raise RequestRejected(f"request body larger than {MAX_BODY_BYTES} bytes", status=413)
    if not raw_body:
        raise RequestRejected("request body must be a JSON object")
    try:
        # JSON between systems is UTF-8 (RFC 8259, section 8.1); anything else is refused
        # rather than guessed at.
        text = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
    except UnicodeDecodeError as exc:
        raise RequestRejected(f"malformed JSON: not UTF-8: {exc.reason}") from exc
    _check_nesting(text)
    try:
        # ValueError covers JSONDecodeError, NaN and Infinity (not JSON), and integers with
        # more digits than int() converts (4,300 by default); InvalidOperation, exponents
        # beyond what Decimal represents.
        document = json.loads(text, parse_float=Decimal, parse_constant=_not_json)
    except (ValueError, InvalidOperation) as exc:
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


# str.isdigit() is true for "²" and "٢" too; only ASCII digits are numbers here.
_ASCII_INTEGER = re.compile(r"[0-9]{1,18}")


def query_int(params: Mapping[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not _ASCII_INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
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
    return path_text(raw, name, max_length)


def path_text(value: str, name: str, max_length: int) -> str:
    """A free-text path or query parameter: 1 to ``max_length`` characters, none of them a
    control character or an unpaired surrogate."""
    if not value:
        raise RequestRejected(f"{name} must not be empty")
    if len(value) > max_length:
        raise RequestRejected(f"{name} must be at most {max_length} characters")
    if has_control_characters(value):
        raise RequestRejected(f"{name} must not contain {CONTROL_CHARACTERS}")
    return value


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
