"""The staff page (/staff) and the customer page with AUTH_MODE=jwt (stage test): the
development login, creating a session, changing its price, metrics with a chart, and a
purchase made with a Bearer token."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from chalicelib.bootstrap import reset_container
from chalicelib.jobs.consumers import loop_for
from infra.dev_token import token_for
from tests.browser.conftest import SCREENSHOT_DIR, api_of, assert_no_page_errors, create_session, seat_ids, unique_movie
from tests.e2e.conftest import api_instances


@pytest.fixture(scope="module")
def jwt_server() -> Iterator[str]:
    with api_instances(1, stage="test") as (url,):
        yield url


def bearer(user: str, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user, admin=admin, stage='test')}"}


def development_sign_in(page: Page, user: str, *, admin: bool) -> None:
    page.get_by_label("User id").fill(user)
    page.get_by_label("E-mail").fill(f"{user}@example.com")
    checkbox = page.get_by_label("Staff (admin role)")
    if checkbox.is_checked() != admin:
        checkbox.click()
    page.get_by_role("button", name="Sign in (development)").click()


def test_staff_create_reprice_and_see_metrics(jwt_server: str, page: Page):
    url = jwt_server
    movie = unique_movie("Dune: Part Two")
    session = create_session(url, movie=movie, seats=16, price="25.00", headers=bearer("boss", admin=True))
    ids = seat_ids(url, session["id"])
    buyer = bearer("bob")
    api = api_of(url)
    status, held, _ = api.hold(session["id"], [ids["A1"], ids["A2"]], "bob", buyer)
    assert status == 201, held
    assert api.pay(held["id"], buyer).status == 201
    # The metrics projection is built by the Kafka consumer: run it over the topic once.
    reset_container()
    loop_for("metrics", group_id=f"staff-page-{uuid.uuid4()}").run(idle_exit_seconds=3, max_seconds=120)

    page.goto(f"{url}/staff")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(page.get_by_label("Staff (admin role)")).to_be_checked()
    development_sign_in(page, "staff-ines", admin=True)
    expect(page.get_by_role("heading", name="Sessions and metrics")).to_be_visible()

    page.locator("#staff-movie-filter").fill(movie)
    page.get_by_role("button", name="Show", exact=True).click()
    row = page.locator(f'tr[data-session-id="{session["id"]}"]')
    expect(row.locator('[data-metric="seats-sold"]')).to_have_text("2 / 16")
    expect(row.locator('[data-metric="revenue"]')).to_have_text("50.00")
    expect(row.locator('[data-metric="conversion"]')).to_have_text("100.00 %")
    bar = page.locator(f'#metrics-chart rect.bar-sold[data-session-id="{session["id"]}"]')
    expect(bar).to_have_attribute("data-seats-sold", "2")
    width = float(bar.get_attribute("width"))
    full = float(page.locator("#metrics-chart rect.bar-capacity").first.get_attribute("width"))
    assert abs(width - full * 2 / 16) < 0.5, (width, full)

    # Change the price.
    price = row.get_by_role("textbox")
    price.fill("30.00")
    row.get_by_role("button", name=re.compile("^Save price")).click()
    expect(page.get_by_text(re.compile("the price is now 30.00"))).to_be_visible()
    assert api.get(f"/sessions/{session['id']}").body["ticketPrice"] == "30.00"

    # Create a session.
    created_movie = f"{movie} (matinee)"
    page.locator("#new-movie").fill(created_movie)
    page.locator("#new-room").fill("Sala 7")
    page.locator("#new-price").fill("18.50")
    page.locator("#new-seats").fill("40")
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_text(f"Session created: {created_movie},")).to_be_visible()
    status, listed, _ = api.get(f"/sessions?movie={quote(created_movie)}")
    assert status == 200, listed
    assert [(s["ticketPrice"], s["totalSeats"], s["roomNumber"]) for s in listed] == [("18.50", 40, "Sala 7")]
    expect(page.locator(f'tr[data-session-id="{listed[0]["id"]}"]')).to_contain_text("0 / 40")
    # Both sessions, listed in start order by the filter that names them.
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#staff-sessions tbody tr")).to_have_count(2)

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-desktop.png"), full_page=True)
    assert_no_page_errors(page)


def test_a_customer_is_not_staff(jwt_server: str, page: Page):
    page.goto(f"{jwt_server}/staff")
    development_sign_in(page, "just-a-customer", admin=False)
    expect(page.get_by_text("just-a-customer is not staff")).to_be_visible()
    expect(page.get_by_role("button", name="Create session")).to_have_count(0)


def test_buying_with_a_bearer_token(jwt_server: str, page: Page):
    url = jwt_server
    session = create_session(url, movie=unique_movie("Bearer"), seats=16, headers=bearer("boss", admin=True))
    page.goto(f"{url}/app#/session/{session['id']}")
    page.get_by_role("button", name="A5, available", exact=True).click()
    page.get_by_role("button", name="Hold 1 seat").click()
    expect(page.get_by_label("Staff (admin role)")).not_to_be_checked()
    development_sign_in(page, "jwt-buyer", admin=False)
    expect(page.get_by_role("button", name="A5, held, yours", exact=True)).to_be_visible()
    page.get_by_role("button", name="Pay 25.00").click()
    sale_id = page.locator("#receipt-sale-id").inner_text()
    # The sale is the token's user's: readable with that user's token only.
    api = api_of(url)
    status, sale, _ = api.get(f"/sales/{sale_id}", bearer("jwt-buyer"))
    assert status == 200 and sale["userId"] == "jwt-buyer", sale
    assert api.get(f"/sales/{sale_id}", bearer("someone-else")).status == 404
    page.get_by_role("link", name="My purchases").first.click()
    expect(page.locator("#purchases tbody tr", has_text=sale_id)).to_contain_text("A5")
    assert_no_page_errors(page)
