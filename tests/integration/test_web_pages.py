"""The web pages' routes: /app and /staff with their vendored assets, and the development
login that exists only in the local and test stages."""

from __future__ import annotations

import json
import re

import jwt
import pytest
from chalice.test import Client

from app import app
from chalicelib.api.auth import development_login_available
from chalicelib.bootstrap import reset_container
from chalicelib.config import ConfigurationError, settings_from
from tests.api_client import session_body

JWT_TEST_STAGE = {
    "AUTH_MODE": "jwt",
    "JWT_ALGORITHMS": "HS256",
    "JWT_SECRET": "local-development-key-never-use-outside-local-and-ci",
    "JWT_ISSUER": "cinema-ticketing-local",
    "JWT_AUDIENCE": "cinema-api",
}
# A real stage: tokens verified by the issuer's key set, no development key.
ISSUER_STAGE = {
    "AUTH_MODE": "jwt",
    "JWT_ALGORITHMS": "RS256",
    "JWT_ISSUER": "https://issuer.example",
    "JWT_JWKS_URL": "https://issuer.example/.well-known/jwks.json",
}


def page_config(html: str) -> dict:
    found = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S)
    assert found, html
    return json.loads(found.group(1))


def raw_get(chalice_client, path: str):
    return chalice_client.http.get(path)


@pytest.mark.parametrize(("path", "script"), [("/app", "app.js"), ("/staff", "staff.js")])
def test_pages_are_served_with_relative_versioned_assets(chalice_client, path, script):
    response = raw_get(chalice_client, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assets = re.findall(r'(?:src|href)="(web/[^"]+)"', html)
    assert {re.sub(r"\?v=[0-9a-f]{12}$", "", a) for a in assets} == {"web/web.css", "web/common.js", f"web/{script}"}
    assert "http" not in "".join(assets) and not any(a.startswith("/") for a in assets)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page_config(html)["authMode"] == "off"
    for asset in assets:
        served = raw_get(chalice_client, "/" + asset.split("?")[0] + "?" + asset.split("?")[1])
        assert served.status_code == 200, asset
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.headers["Content-Type"].startswith(("text/javascript", "text/css"))


def test_unknown_or_unversioned_assets(chalice_client):
    assert raw_get(chalice_client, "/web/nope.js").status_code == 404
    assert raw_get(chalice_client, "/web/..").status_code == 404
    assert raw_get(chalice_client, "/web/app.js").headers["Cache-Control"] == "no-cache"
    assert raw_get(chalice_client, "/web/app.js?v=000000000000").headers["Cache-Control"] == "no-cache"


def test_the_javascript_stays_under_200_kb():
    from chalicelib.api.web import STATIC_DIR

    total = sum(path.stat().st_size for path in STATIC_DIR.glob("*.js"))
    assert 0 < total < 200 * 1024, total


def development_token(client, body='{"userId": "ana", "admin": true}'):
    response = client.http.post("/auth/dev-token", headers={"Content-Type": "application/json"}, body=body)
    return response.status_code, json.loads(response.body)


@pytest.fixture(scope="module")
def test_stage_client():
    with Client(app, stage_name="test") as client:
        yield client


def test_the_development_login_signs_tokens_in_the_test_stage(test_stage_client):
    reset_container()
    status, answer = development_token(test_stage_client)
    assert status == 200, answer
    claims = jwt.decode(answer["token"], JWT_TEST_STAGE["JWT_SECRET"], algorithms=["HS256"], audience="cinema-api")
    assert claims["sub"] == "ana" and claims["roles"] == ["admin"] and claims["exp"] - claims["iat"] == 3600
    assert page_config(raw_get(test_stage_client, "/app").body.decode())["developmentLogin"] is True
    # The token works as a Bearer token of that stage.
    created = test_stage_client.http.post(
        "/sessions",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {answer['token']}"},
        body=json.dumps(session_body()),
    )
    assert created.status_code == 201, created.body
    # Bad bodies are 400 and sign nothing.
    assert development_token(test_stage_client, '{"userId": ""}')[0] == 400
    assert development_token(test_stage_client, '{"userId": "a", "admin": "yes"}')[0] == 400
    assert development_token(test_stage_client, '{"userId": "a", "roles": ["admin"]}')[0] == 400
    assert development_token(test_stage_client, "not json")[0] == 400


def test_the_local_stage_with_auth_off_has_no_development_login(chalice_client):
    status, error = development_token(chalice_client)
    assert status == 404 and error["statusCode"] == 404 and "token" not in error
    assert page_config(raw_get(chalice_client, "/app").body.decode())["developmentLogin"] is False


@pytest.mark.parametrize(
    ("environment", "available"),
    [
        ({**JWT_TEST_STAGE, "STAGE": "local"}, True),
        ({**JWT_TEST_STAGE, "STAGE": "test"}, True),
        ({**ISSUER_STAGE, "STAGE": "dev"}, False),
        ({**ISSUER_STAGE, "STAGE": "prod"}, False),
        ({"AUTH_MODE": "off", "STAGE": "local"}, False),  # nothing to sign in to
        ({**JWT_TEST_STAGE, "STAGE": "test", "JWT_ALGORITHMS": "RS256"}, False),
        ({**JWT_TEST_STAGE, "STAGE": "test", "JWT_SECRET": ""}, False),
    ],
)
def test_the_development_login_exists_only_in_local_and_test(environment, available):
    assert development_login_available(settings_from(environment)) is available


@pytest.mark.parametrize("stage", ["dev", "prod", "staging"])
def test_a_development_key_configured_by_mistake_outside_local_and_test_is_refused(stage):
    # Not only is there no development login there: such a stage does not even start.
    with pytest.raises(ConfigurationError, match="may not use the HS256 development key"):
        settings_from({**JWT_TEST_STAGE, "STAGE": stage})
