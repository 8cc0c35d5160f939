"""The OpenAPI 3.1 document, generated from the registered operations and their pydantic
models, so it cannot drift from the code."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.auth import Access
from chalicelib.api.http import MAX_BODY_BYTES
from chalicelib.api.routing import OPERATIONS, Operation
from chalicelib.api.schemas import ErrorResponse
from chalicelib.domain.actors import MAX_USER_ID_LENGTH

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")

ERROR_DESCRIPTIONS = {
    400: "Invalid request (malformed JSON, wrong types, unknown fields, broken business rule)",
    401: "Missing or invalid Bearer token",
    403: "Authenticated, but not allowed",
    404: "Not found (including another user's objects)",
    409: "Conflict with the current state (seat taken, request in progress, session in use)",
    413: f"Request body larger than {MAX_BODY_BYTES} bytes",
    422: "Idempotency-Key reused with a different body",
    429: "Rate limit exceeded",
    503: "A dependency is unavailable",
}


def _schemas(operations: list[Operation]) -> tuple[dict[Any, Any], dict[str, Any]]:
    pairs: list[tuple[type[BaseModel], Any]] = [(ErrorResponse, "serialization")]
    for op in operations:
        if op.request is not None:
            pairs.append((op.request, "validation"))
        if op.response is not None:
            pairs.append((op.response, "serialization"))
    unique = list(dict.fromkeys(pairs))
    refs, definitions = models_json_schema(unique, ref_template=REF)
    return refs, definitions.get("$defs", {})


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(op.path):
        schema = (
            {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID_LENGTH}
            if name == "user_id"
            else {
                "type": "string",
                "format": "uuid",
            }
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    for query in op.query:
        parameters.append(
            {
                "name": query.name,
                "in": "query",
                "required": False,
                "description": query.description,
                "schema": query.schema,
            }
        )
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Replays the first answer for the same key and body (scoped to the user)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    return parameters


def _operation_document(op: Operation, refs: dict[Any, Any], auth_enabled: bool) -> dict[str, Any]:
    error_ref = refs[(ErrorResponse, "serialization")]
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": "Done; no content"}
    else:
        schema: dict[str, Any] = refs[(op.response, "serialization")] if op.response else {"type": "object"}
        if op.many:
            schema = {"type": "array", "items": schema}
        responses[str(op.status)] = {"description": "Success", "content": {"application/json": {"schema": schema}}}
        if op.links:
            responses[str(op.status)]["links"] = op.links
    for code in op.errors:
        if code == 503 and op.response is not None and op.name == "health":
            responses["503"] = {
                "description": ERROR_DESCRIPTIONS[503],
                "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
                "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
            }
            continue
        error: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": error_ref}},
        }
        if code in (409, 429, 503):
            error["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
        responses[str(code)] = error
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
        "security": [{"bearerAuth": []}] if auth_enabled and op.access is not Access.PUBLIC else [],
    }
    if op.request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
        }
    return document


@lru_cache(maxsize=2)
def openapi_document(auth_enabled: bool = True) -> dict[str, Any]:
    """The document of the API as it runs: with AUTH_MODE=off no operation needs a token."""
    operations = list(OPERATIONS)
    refs, definitions = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_document(op, refs, auth_enabled)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cinema ticketing API",
            "version": "1.0.0",
            "description": "Sessions, seat holds that expire after RESERVATION_TTL_SECONDS, and sales. "
            "No seat is ever sold twice. With AUTH_MODE=jwt, protected operations need a Bearer token.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
