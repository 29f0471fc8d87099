"""Shared steps of the learning pages' accessibility tests (video, quizzes, certificates):
open a page in English, then in Arabic, run axe-core (WCAG 2.0-2.2 A/AA) on each, check
that Arabic is laid out right-to-left, and save the Arabic screenshots at desktop and
phone widths (test-output/screenshots/ar-<name>-desktop.png / -phone.png).

The language is the footer switcher's cookie (``cp_language``), which decides for
visitors and for signed-in people who chose no language of their own.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.a11y import PHONE, assert_accessible, language_cookie
from tests.fixtures.browser import VIEWPORT, LiveApp, screenshot

PASSWORD = "a-long-test-passphrase-42"


def log_in(page: Page, live_app: LiveApp, host: str, email: str, next_path: str) -> None:
    page.goto(live_app.url(host, f"/accounts/login/?next={next_path}"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(live_app.url(host, next_path))


def use_language(page: Page, live_app: LiveApp, host: str, language: str) -> None:
    """From the next request on, pages of ``host`` are in ``language``."""
    page.context.add_cookies([language_cookie(live_app.url(host, "/"), language)])  # type: ignore[list-item]


def check_english(page: Page, name: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, f"en {name}")


def check_arabic(page: Page, name: str) -> None:
    """Arabic, right-to-left, axe-clean at desktop and phone widths; screenshots of both."""
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    assert_accessible(page, f"ar {name}")
    screenshot(page, f"ar-{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    try:
        assert_accessible(page, f"ar {name} (phone)")
        screenshot(page, f"ar-{name}-phone")
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width + 1, (
            f"ar {name}: {scroll_width}px wide at {inner_width}px: it scrolls sideways"
        )
    finally:
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
