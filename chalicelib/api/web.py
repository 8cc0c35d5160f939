"""The customer page (/app) and the staff page (/staff), served by the app itself from files
vendored in chalicelib/static/web: no build step, no CDN, so they work offline under
``make run``, behind LocalStack's API Gateway and in AWS alike.

Every URL in the pages is relative (``web/app.js``, ``sessions``), so they resolve under
whatever prefix the client used: ``/`` locally, ``/prod/`` on an execute-api domain,
``/restapis/<id>/local/_user_request_/`` on LocalStack.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from html import escape
from pathlib import Path
from urllib.parse import urlparse

from chalice import Blueprint, Response

from chalicelib.api.auth import development_login_available
from chalicelib.api.errors import error_response
from chalicelib.bootstrap import container

web_api = Blueprint(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "web"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only the app's own origin: no inline script, no third party. The OIDC issuer is added where
# the page talks to it (its token endpoint).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'{issuer}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{css}">
  <script id="page-config" type="application/json">{config}</script>
  <script src="{common}" defer></script>
  <script src="{script}" defer></script>
</head>
<body class="page-{page}">
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header">
    <div class="site-header__inner">
      <a class="brand" href="{home}">Cinema</a>
      <nav aria-label="Main">{nav}</nav>
      <div id="identity" class="identity"></div>
    </div>
  </header>
  <main id="main" tabindex="-1">
    <noscript><p class="notice notice--error">This page needs JavaScript.</p></noscript>
  </main>
  <div id="announcer" class="visually-hidden" aria-live="polite"></div>
</body>
</html>
"""

PAGES = {
    "app": {
        "title": "Cinema: choose your seats",
        "script": "app.js",
        "nav": '<a href="app#/">Programme</a> <a href="app#/purchases">My purchases</a>',
    },
    "staff": {
        "title": "Cinema: staff",
        "script": "staff.js",
        "nav": '<a href="staff#/">Sessions and metrics</a> <a href="app#/">Customer page</a>',
    },
}


@lru_cache(maxsize=1)
def _vendored() -> frozenset[str]:
    return frozenset(path.name for path in STATIC_DIR.iterdir() if path.suffix in CONTENT_TYPES and path.is_file())


@lru_cache(maxsize=16)
def _asset(name: str) -> tuple[str, str] | None:
    """(text, version) of a vendored file; the version is its content hash."""
    # Only names of files that are there: anything else (a NUL byte, a name too long for the
    # file system) would make the file system raise rather than answer "no such file".
    if name not in _vendored():
        return None
    path = STATIC_DIR / name
    text = path.read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def _asset_url(name: str) -> str:
    found = _asset(name)
    assert found is not None, f"missing vendored asset {name}"
    return f"web/{name}?v={found[1]}"


def _page_config() -> dict[str, object]:
    settings = container().settings
    return {
        "authMode": settings.auth_mode,
        "stage": settings.stage,
        "developmentLogin": development_login_available(settings),
        "issuer": settings.jwt_issuer,
        "oidcClientId": settings.oidc_client_id,
        "maxSeatsPerReservation": settings.max_seats_per_reservation,
        "pollIntervalMs": 1000,
    }


def _render(page: str) -> Response:
    spec = PAGES[page]
    config = _page_config()
    # "</" cannot end the JSON's script element early: JSON allows "<\/".
    config_json = json.dumps(config).replace("</", "<\\/")
    body = PAGE.format(
        title=escape(spec["title"]),
        css=_asset_url("web.css"),
        common=_asset_url("common.js"),
        script=_asset_url(spec["script"]),
        config=config_json,
        page=page,
        home=page,
        nav=spec["nav"],
    )
    issuer = urlparse(str(config["issuer"]))
    issuer_origin = f" https://{issuer.netloc}" if config["oidcClientId"] and issuer.scheme == "https" else ""
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(issuer=issuer_origin),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@web_api.route("/app", methods=["GET"])
def customer_page() -> Response:
    return _render("app")


@web_api.route("/staff", methods=["GET"])
def staff_page() -> Response:
    return _render("staff")


@web_api.route("/web/{asset}", methods=["GET"])
def web_asset(asset: str) -> Response:
    found = _asset(asset)
    if found is None:
        return error_response(404, "no such asset")
    text, version = found
    params: Mapping[str, str] = web_api.current_request.query_params or {}
    requested = params.get("v")
    # A URL naming the current version never changes; any other is revalidated.
    caching = "public, max-age=31536000, immutable" if requested == version else "no-cache"
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": CONTENT_TYPES[Path(asset).suffix],
            "Cache-Control": caching,
            "ETag": f'"{version}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
