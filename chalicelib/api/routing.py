"""Route registration: each route is declared once, with what the OpenAPI document needs
(request and response models, status, errors, access), and every view is wrapped so that
failures go through ``chalicelib.api.errors`` and abuse limits apply."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib.adapters.admission import Quotas
from chalicelib.api.auth import Access, jwt_authorizer, resolve_actor
from chalicelib.api.errors import response_for
from chalicelib.api.http import query_int
from chalicelib.bootstrap import container
from chalicelib.config import auth_enabled_at_import
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import RateLimited


@dataclass(frozen=True)
class QueryParam:
    """A query parameter the view reads itself; ``schema`` is its JSON Schema."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class IntegerParam:
    """An integer query parameter the route declaration parses for the view."""

    name: str
    description: str
    minimum: int
    maximum: int
    default: int

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum, "default": self.default}

    def read(self, params: Mapping[str, str] | None) -> int:
        return query_int(params, self.name, self.default, self.minimum, self.maximum)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    tag: str
    status: int
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    many: bool
    errors: tuple[int, ...]
    access: Access
    query: tuple[QueryParam | IntegerParam, ...]
    idempotent: bool
    links: dict[str, dict[str, Any]]


OPERATIONS: list[Operation] = []

PAGE_SIZE = IntegerParam("limit", "page size", minimum=1, maximum=500, default=100)
PAGE_OFFSET = IntegerParam("offset", "items to skip", minimum=0, maximum=1_000_000, default=0)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    @classmethod
    def of(cls, params: Mapping[str, str] | None) -> Page:
        return cls(PAGE_SIZE.read(params), PAGE_OFFSET.read(params))


def _quotas_of(actor: Actor | None, context: dict[str, Any] | None) -> Quotas:
    settings = container().settings
    source_ip = ((context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    limits = [(f"ip:{source_ip}", settings.rate_limit_per_ip)]
    if actor is not None:
        limits.insert(0, (f"user:{actor.user_id}", settings.rate_limit_per_user))
    return Quotas(tuple(limits))


def _spend(quotas: Quotas) -> None:
    admission = container().gatekeeper.admit(quotas)
    if admission.rate_limited_for:
        raise RateLimited("too many requests; slow down", admission.rate_limited_for)


def operation(
    blueprint: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    status: int = 200,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    many: bool = False,
    errors: tuple[int, ...] = (),
    access: Access = Access.PUBLIC,
    query: tuple[QueryParam | IntegerParam, ...] = (),
    paged: bool = False,
    idempotent: bool = False,
    rate_limited: bool = True,
    quotas_to_view: bool = False,
    links: dict[str, dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register ``view(actor, **path_params)`` as a route. The request is counted against the
    caller's rate limits before the view runs; with ``quotas_to_view`` the view is called with
    ``quotas=`` and counts them itself, in the same Redis round trip as its seat gates. A
    ``paged`` route takes ``limit`` and ``offset`` and its view gets them as ``page=``."""
    if paged:
        query = (PAGE_SIZE, PAGE_OFFSET, *query)

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        OPERATIONS.append(
            Operation(
                method,
                path,
                view.__name__,
                summary,
                tag,
                status,
                request,
                response,
                many,
                errors,
                access,
                query,
                idempotent,
                links or {},
            )
        )

        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            try:
                current = blueprint.current_request
                actor = resolve_actor(current.context, current.headers, access)
                quotas = _quotas_of(actor, current.context) if rate_limited else None
                if quotas is not None and not quotas_to_view:
                    _spend(quotas)
                extras: dict[str, Any] = {}
                if quotas_to_view:
                    extras["quotas"] = quotas
                if paged:
                    extras["page"] = Page.of(current.query_params)
                try:
                    return view(actor, **extras, **path_params)
                finally:
                    # A view that never reached Redis (a malformed body, a replayed idempotent
                    # answer) still counts; over the limit, the 429 replaces its answer.
                    if quotas is not None and not quotas.spent:
                        _spend(quotas)
            except Exception as exc:
                return response_for(exc)

        authorizer = jwt_authorizer if access is not Access.PUBLIC and auth_enabled_at_import() else None
        return blueprint.route(path, methods=[method], authorizer=authorizer)(handler)

    return register
