"""The OpenAPI 3.1 document is generated from the route registry and its models: every
route is in it with its schemas and error codes, and it is a valid OpenAPI document."""

from __future__ import annotations

import filecmp
import re

from openapi_spec_validator import validate

from app import app
from chalicelib.api.openapi import openapi_document
from chalicelib.api.routing import OPERATIONS
from infra.vendor_swagger_ui import ASSETS, TARGET, package_static_dir

# Routes that are not part of the API: its documentation, the web pages and their files, and
# the pages' development login (local and test stages only).
DOC_ROUTES = {"/openapi.json", "/api-docs", "/api-docs/{asset}", "/app", "/staff", "/web/{asset}", "/auth/dev-token"}


def test_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_documented_with_schemas_and_errors():
    document = openapi_document()
    for path, entry in app.routes.items():
        if path in DOC_ROUTES:
            continue
        for method in entry:
            operation = document["paths"][path][method.lower()]
            statuses = set(operation["responses"])
            success = [s for s in statuses if s.startswith("2")]
            assert len(success) == 1, (path, method)
            if success[0] != "204":
                assert operation["responses"][success[0]]["content"]["application/json"]["schema"], (path, method)
            errors = statuses - set(success)
            assert errors, f"{method} {path} documents no error codes"
            for code in errors:
                assert "application/json" in operation["responses"][code]["content"], (path, method, code)
            if method in ("POST", "PATCH"):
                assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            names = set(re.findall(r"{(\w+)}", path))
            assert names == {p["name"] for p in operation["parameters"] if p["in"] == "path"}
    documented = {(op.path, op.method) for op in OPERATIONS}
    routed = {(path, method) for path, entry in app.routes.items() for method in entry if path not in DOC_ROUTES}
    assert documented == routed


def test_request_models_forbid_unknown_and_server_owned_fields():
    schemas = openapi_document()["components"]["schemas"]
    for name in ("CreateSessionRequest", "CreateReservationRequest", "CreateSaleRequest", "UpdateSessionRequest"):
        assert schemas[name]["additionalProperties"] is False
    for owned in ("status", "amount", "expiresAt", "id"):
        assert owned not in schemas["CreateReservationRequest"]["properties"]
        assert owned not in schemas["CreateSaleRequest"]["properties"]


def test_protected_operations_declare_bearer_auth():
    paths = openapi_document()["paths"]
    assert paths["/reservations"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/sessions"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/sessions"]["get"]["security"] == []


def test_served_document_and_swagger_ui_work_offline(api):
    status, document, _ = api.get("/openapi.json")
    assert status == 200 and document == openapi_document(auth_enabled=False)  # the local stage runs AUTH_MODE=off
    assert document["paths"]["/reservations"]["post"]["security"] == []
    page = api.transport.http.get("/api-docs")
    html = page.body.decode()
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "api-docs/swagger-ui-bundle.js" in html and "http" not in html.split("<body>")[1]
    script = api.transport.http.get("/api-docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["Content-Type"] == "application/javascript"
    assert api.transport.http.get("/api-docs/swagger-ui.css").headers["Content-Type"] == "text/css"
    assert api.transport.http.get("/api-docs/..%2F..%2Fapp.py").status_code == 404


def test_vendored_assets_are_the_pinned_packages_files():
    for name in ASSETS:
        assert filecmp.cmp(TARGET / name, package_static_dir() / name, shallow=False), name
