"""Routes for sales (payment confirmation) and purchase history."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import endpoint, json_response, parse_body, path_uuid, query_int
from chalicelib.api.schemas import CreateSaleRequest, SaleResponse
from chalicelib.bootstrap import container

sales_api = Blueprint(__name__)


@sales_api.route("/sales", methods=["POST"])
@endpoint
def create_sale() -> Response:
    request = sales_api.current_request
    body = parse_body(request.raw_body, CreateSaleRequest)
    services = container()

    def confirm() -> dict:
        return SaleResponse.of(services.sales.confirm(body.reservationId)).model_dump(mode="json")

    result = services.idempotency.run(
        "create-sale",
        request.headers.get("idempotency-key"),
        str(body.reservationId),
        body.model_dump(mode="json"),
        confirm,
    )
    return json_response(result, status=201)


@sales_api.route("/sales/{sale_id}", methods=["GET"])
@endpoint
def get_sale(sale_id: str) -> Response:
    return json_response(SaleResponse.of(container().sales.get(path_uuid(sale_id, "id"))))


@sales_api.route("/sales/user/{user_id}", methods=["GET"])
@endpoint
def sales_of_user(user_id: str) -> Response:
    params = sales_api.current_request.query_params
    limit = query_int(params, "limit", default=100, low=1, high=500)
    offset = query_int(params, "offset", default=0, low=0, high=1_000_000)
    sales = container().sales.for_user(user_id, limit=limit, offset=offset)
    return json_response([SaleResponse.of(sale) for sale in sales])
