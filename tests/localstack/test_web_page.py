"""The customer page through API Gateway: served under the stage's path prefix, its assets
and API calls resolve there, and a purchase goes through in headless Chromium."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect, sync_playwright

from tests.api_client import ApiClient
from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.localstack.support import Deployment


def test_buy_seats_on_the_page_through_api_gateway(stack: Deployment, driver: ApiClient, user: str):
    session = driver.new_session(totalSeats=16, ticketPrice="12.50")
    _, _, headers = driver.get(f"/sessions/{session['id']}/seats")
    status, body, _ = driver.get(f"/sessions/{session['id']}/seats", headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body is None

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

    status, sale, _ = driver.request("GET", f"/sales/{sale_id}")
    assert status == 200 and sale["seatNumbers"] == ["A1", "A2"] and sale["userId"] == user
    assert re.fullmatch(r"[0-9a-f-]{36}", sale_id)


def test_the_next_page_link_through_api_gateway(stack: Deployment, driver: ApiClient):
    driver.new_session()
    driver.new_session()
    status, first, headers = driver.get("/sessions?limit=1")
    assert status == 200 and int(headers["X-Total-Count"]) >= 2
    [next_url] = re.findall(r'<([^>]+)>; rel="next"', headers["Link"])
    link = urlparse(next_url)
    assert link.scheme in ("http", "https") and link.path.endswith("/sessions")
    assert parse_qs(link.query) == {"limit": ["1"], "offset": ["1"]}
    # The link's path is the one API Gateway's event reports (/<stage>/sessions): right for
    # execute-api hosts; LocalStack's path-style URL (/restapis/<id>/<stage>/_user_request_)
    # is not in the event, so here the link's query is applied to the stack's own base URL.
    status, following, _ = driver.get(f"/sessions?{link.query}")
    assert status == 200 and len(following) == 1
    assert following[0]["id"] != first[0]["id"]
