"""/api-docs renders in a real headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium), offline: the page lists the endpoints and a screenshot is taken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import PROJECT_ROOT, api_instances

pytestmark = pytest.mark.slow

SCREENSHOT = PROJECT_ROOT / ".local" / "screenshots" / "api-docs.png"


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def test_swagger_ui_lists_the_endpoints(tmp_path: Path):
    with api_instances(1) as (url,):
        browser = chromium()
        try:
            browser.get(f"{url}/api-docs")
            WebDriverWait(browser, 30).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path"))
            )
            paths = {
                element.text.replace("\u200b", "")
                for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
            }
            title = browser.find_element(By.CSS_SELECTOR, ".info .title").text
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            assert browser.save_screenshot(str(SCREENSHOT))
        finally:
            browser.quit()
    assert "Cinema ticketing API" in title
    for expected in ("/sessions", "/sessions/{session_id}/seats", "/reservations", "/sales", "/sales/user/{user_id}"):
        assert expected in paths, paths
    assert SCREENSHOT.stat().st_size > 10_000
