"""Browser tests of the web pages: Playwright driving Debian's headless Chromium against API
processes started like the e2e suite's (``api_instances``), on loopback with no network."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.api_client import ApiClient, OverHttp
from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.conftest import PROJECT_ROOT, api_instances

DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 780}
# make screenshots writes the README's pictures; a plain test run keeps them out of the tree.
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or PROJECT_ROOT / ".local" / "screenshots")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.slow)


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and later suites call asyncio.run() (tests/api_client.py).
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """One API process of the local stage (AUTH_MODE=off) for a test module."""
    with api_instances(1) as (url,):
        yield url


def new_context(browser: Browser, viewport: dict[str, int] = DESKTOP, **options: Any) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC", **options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(browser)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return watch_errors(context.new_page())


def watch_errors(page: Page) -> Page:
    """Script errors on the page fail the test (checked by ``assert_no_page_errors``)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def assert_no_page_errors(*pages: Page) -> None:
    for page in pages:
        assert page.errors == [], page.errors  # type: ignore[attr-defined]


def unique_movie(label: str = "Browser") -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


def api_of(url: str) -> ApiClient:
    return ApiClient(OverHttp([url]))


def create_session(url: str, *, movie: str, seats: int = 20, price: str = "25.00", headers=None) -> dict[str, Any]:
    return api_of(url).new_session(headers, movieName=movie, totalSeats=seats, ticketPrice=price)


def seat_ids(url: str, session_id: str) -> dict[str, str]:
    return {seat["seatNumber"]: seat["id"] for seat in api_of(url).seats(session_id)}


def sign_in(page: Page, user: str, email: str | None = None) -> None:
    """Fill the page's sign-in form (AUTH_MODE=off: a user id and an e-mail)."""
    page.get_by_label("User id").fill(user)
    page.get_by_label("E-mail").fill(email or f"{user}@example.com")
    page.get_by_role("button", name="Continue").click()
