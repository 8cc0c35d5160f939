"""The customer page through API Gateway: served under the stage's path prefix, its assets
and API calls resolve there, and a purchase goes through in headless Chromium."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.driver import HttpDriver
from tests.localstack.support import Deployment


def test_buy_seats_on_the_page_through_api_gateway(stack: Deployment, driver: HttpDriver, user: str):
    session = driver.new_session(total_seats=16, price="12.50")
    seats = httpx.get(f"{stack.api_url}/sessions/{session['id']}/seats", timeout=60)
    tag = seats.headers["ETag"]
    unchanged = httpx.get(f"{stack.api_url}/sessions/{session['id']}/seats", headers={"If-None-Match": tag}, timeout=60)
    assert unchanged.status_code == 304 and unchanged.content == b""

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(stack.api_url) else None)

            page.goto(f"{stack.api_url}/app#/session/{session['id']}")
            expect(page.get_by_role("heading", level=1)).to_have_text(session["movieName"])
            page.get_by_role("button", name="A1, available", exact=True).click()
            page.get_by_role("button", name="A2, available", exact=True).click()
            page.get_by_role("button", name="Hold 2 seats").click()
            page.get_by_label("User id").fill(user)
            page.get_by_label("E-mail").fill(f"{user}@example.com")
            page.get_by_role("button", name="Continue").click()
            expect(page.get_by_role("button", name="A1, held, yours", exact=True)).to_be_visible()
            page.get_by_role("button", name="Pay 25.00").click()
            expect(page.locator("#receipt-amount")).to_have_text("25.00")
            sale_id = page.locator("#receipt-sale-id").inner_text()
            expect(page.get_by_role("button", name="A2, sold, yours", exact=True)).to_be_visible()
            assert errors == [] and outside == [], (errors, outside)
        finally:
            browser.close()

    status, sale = driver.request("GET", f"/sales/{sale_id}")
    assert status == 200 and sale["seatNumbers"] == ["A1", "A2"] and sale["userId"] == user
    assert re.fullmatch(r"[0-9a-f-]{36}", sale_id)


def test_the_next_page_link_through_api_gateway(stack: Deployment, driver: HttpDriver):
    driver.new_session()
    driver.new_session()
    first = httpx.get(f"{stack.api_url}/sessions?limit=1", timeout=60)
    assert first.status_code == 200 and int(first.headers["X-Total-Count"]) >= 2
    link = urlparse(first.links["next"]["url"])
    assert link.scheme in ("http", "https") and link.path.endswith("/sessions")
    assert parse_qs(link.query) == {"limit": ["1"], "offset": ["1"]}
    # The link's path is the one API Gateway's event reports (/<stage>/sessions): right for
    # execute-api hosts; LocalStack's path-style URL (/restapis/<id>/<stage>/_user_request_)
    # is not in the event, so here the link's query is applied to the stack's own base URL.
    following = httpx.get(f"{stack.api_url}/sessions?{link.query}", timeout=60)
    assert following.status_code == 200 and len(following.json()) == 1
    assert following.json()[0]["id"] != first.json()[0]["id"]
