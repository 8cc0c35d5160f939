"""The API's own documentation: /openapi.json and Swagger UI at /api-docs, served from
assets vendored in chalicelib/static (no CDN, so the page works offline)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.errors import error_response
from chalicelib.api.openapi import openapi_document
from chalicelib.bootstrap import container

docs_api = Blueprint(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
ASSET_TYPES = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css"}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cinema ticketing API</title>
  <link rel="stylesheet" href="api-docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="api-docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


@docs_api.route("/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    document = openapi_document(auth_enabled=container().settings.auth_mode == "jwt")
    return Response(body=json.dumps(document), status_code=200, headers={"Content-Type": "application/json"})


@docs_api.route("/api-docs", methods=["GET"])
def swagger_page() -> Response:
    return Response(body=PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@docs_api.route("/api-docs/{asset}", methods=["GET"])
def swagger_asset(asset: str) -> Response:
    if asset not in ASSET_TYPES:
        return error_response(404, "no such asset")
    return Response(
        body=_asset(asset),
        status_code=200,
        headers={"Content-Type": ASSET_TYPES[asset], "Cache-Control": "public, max-age=86400"},
    )
