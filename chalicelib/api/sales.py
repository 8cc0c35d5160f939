"""Routes for sales (payment confirmation) and purchase history."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import Access
from chalicelib.api.http import json_response, parse_body, path_text, path_uuid
from chalicelib.api.reservations import owner_of
from chalicelib.api.routing import Page, operation
from chalicelib.api.schemas import CreateSaleRequest, SaleResponse
from chalicelib.bootstrap import container
from chalicelib.domain.actors import MAX_USER_ID_LENGTH, Actor
from chalicelib.domain.errors import Forbidden

sales_api = Blueprint(__name__)
TAG = "sales"


@operation(
    sales_api,
    "POST",
    "/sales",
    summary="Pay for a pending reservation",
    tag=TAG,
    status=201,
    request=CreateSaleRequest,
    response=SaleResponse,
    errors=(400, 401, 404, 409, 413, 422, 429),
    access=Access.USER,
    idempotent=True,
    links={
        "get_sale": {"operationId": "get_sale", "parameters": {"sale_id": "$response.body#/id"}},
        "sales_of_user": {"operationId": "sales_of_user", "parameters": {"user_id": "$response.body#/userId"}},
    },
)
def create_sale(actor: Actor | None) -> Response:
    request = sales_api.current_request
    body = parse_body(request.raw_body, CreateSaleRequest)
    services = container()

    def confirm() -> dict:
        sale = services.sales.confirm(body.reservation_id, owner_of(actor))
        return SaleResponse.model_validate(sale).model_dump(mode="json")

    scope = actor.user_id if actor else str(body.reservation_id)
    result = services.idempotency.run(
        "create-sale", request.headers.get("idempotency-key"), scope, body.model_dump(mode="json"), confirm
    )
    return json_response(result, status=201)


@operation(
    sales_api,
    "GET",
    "/sales/{sale_id}",
    summary="Get a sale",
    tag=TAG,
    response=SaleResponse,
    errors=(400, 401, 404, 429),
    access=Access.USER,
)
def get_sale(actor: Actor | None, sale_id: str) -> Response:
    return json_response(SaleResponse.model_validate(container().sales.get(path_uuid(sale_id, "id"), owner_of(actor))))


@operation(
    sales_api,
    "GET",
    "/sales/user/{user_id}",
    summary="A user's purchases, newest first",
    tag=TAG,
    response=SaleResponse,
    many=True,
    errors=(400, 401, 403, 429),
    access=Access.USER,
    paged=True,
)
def sales_of_user(actor: Actor | None, page: Page, user_id: str) -> Response:
    path_text(user_id, "userId", MAX_USER_ID_LENGTH)
    if actor is not None and user_id != actor.user_id:
        raise Forbidden("you can only list your own purchases")
    sales = container().sales.for_user(user_id, limit=page.limit, offset=page.offset)
    return json_response([SaleResponse.model_validate(sale) for sale in sales])
