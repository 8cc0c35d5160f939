"""The API behind ``make run``: a WSGI application that hands every request to Chalice's own
``LocalGateway``, the same gateway ``chalice local`` uses, so each request becomes the API
Gateway proxy event the Lambda function receives in AWS and the stage's authorizers run
exactly as ``chalice local`` runs them. Granian (a Rust HTTP server) serves it, one instance
per process, behind the nginx edge of ``infra.edge_proxy``:

    granian --interface wsgi --factory --uds .local/run/api-0.sock infra.api_server:create_application

The stage comes from ``CHALICE_STAGE`` (default ``local``). Its environment variables from
``.chalice/config.json`` are applied the way ``chalice local`` applies them: they override
the shell's.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes
from chalice.local import CustomLocalChalice, LocalChalice, LocalGateway, LocalGatewayException

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
# Characters a client may send unescaped in a path; anything else is re-escaped, since the
# WSGI server hands over the decoded path and the gateway matches routes on the raw one.
_PATH_SAFE = "/:@!$&'()*+,;=~"

logger = logging.getLogger("infra.api_server")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def load_gateway(stage: str, project_dir: Path = PROJECT_ROOT) -> LocalGateway:
    """The app of ``stage`` behind Chalice's local gateway, loaded as ``chalice local`` loads it."""
    config = CLIFactory(str(project_dir), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    # As in chalice.local.create_local_server: the current request becomes thread-local.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalGateway(app, config)


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def _response_headers(response: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(name, str(value)) for name, value in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))  # chalice local's default
    return headers


def _error_body(status: int, message: str) -> bytes:
    return json.dumps({"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}).encode()


class GatewayApplication:
    """WSGI callable: HTTP request -> ``LocalGateway.handle_request`` -> HTTP response."""

    def __init__(self, gateway: LocalGateway) -> None:
        self._gateway = gateway

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        body = environ["wsgi.input"].read(int(length)) if length else None
        path = quote(environ.get("PATH_INFO") or "/", safe=_PATH_SAFE)
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        try:
            response = self._gateway.handle_request(environ["REQUEST_METHOD"], path, _request_headers(environ), body)
            status = int(response["statusCode"])
            headers = _response_headers(response)
            payload = response.get("body") or b""
            if response.get("isBase64Encoded"):
                payload = base64.b64decode(payload)
        except LocalGatewayException as exc:  # what API Gateway itself answers (401, 403)
            status, payload = exc.CODE, exc.body or b""
            headers = [(name, str(value)) for name, value in exc.headers.items()]
            headers.append(("Content-Type", "application/json"))
        except Exception:  # the function crashed: API Gateway answers 502, never a hung connection
            logger.exception("the API function failed")
            status, payload = 502, _error_body(502, "the API function failed")
            headers = [("Content-Type", "application/json")]
        if isinstance(payload, str):
            payload = payload.encode()
        headers.append(("Content-Length", str(len(payload))))
        start_response(STATUS_LINES.get(status, f"{status} Unknown"), headers)
        return [payload]


def create_application() -> GatewayApplication:
    """Granian's factory (``--factory``): builds the app once per worker process, warm: its
    components built, connections open and request models compiled before the first request."""
    application = GatewayApplication(load_gateway(os.environ.get("CHALICE_STAGE", "local")))
    from chalicelib.api.routing import OPERATIONS
    from chalicelib.bootstrap import container

    container().warm_up()
    for operation in OPERATIONS:
        for model in (operation.request, operation.response):
            if model is not None:
                model.model_rebuild()
    return application
