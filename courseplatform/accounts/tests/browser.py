"""Helpers for the browser tests of the account and settings pages (accounts, api,
webhooks): a school committed for the live app, a signed-in owner, and the check every
page gets in English and Arabic (axe-core clean, right-to-left in Arabic, screenshots
at desktop and phone width, no sideways scrolling on a phone)."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from playwright.sync_api import Browser, BrowserContext, Page

from tests.fixtures.a11y import PHONE, assert_accessible, language_cookie
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

PASSWORD = "a-long-test-passphrase-42"
LANGUAGES = ("en", "ar")


def new_school(prefix: str, name: str = "Cedar Atelier") -> SimpleNamespace:
    """A fresh school (its own slug on every run) and its owner, committed."""
    from courseplatform.onboarding.services import create_school

    slug = f"{prefix}-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name=name,
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    return SimpleNamespace(slug=slug, host=f"{slug}.", school=created.school, owner=created.owner)


def open_context(browser: Browser, live_app: LiveApp, host: str, language: str) -> BrowserContext:
    """A fresh browser context that reads ``host`` in ``language`` (the switcher's cookie)."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    if language != "en":
        context.add_cookies([language_cookie(live_app.url(host, "/"), language)])  # type: ignore[list-item]
    return context


def log_in(page: Page, live_app: LiveApp, host: str, email: str, next_path: str) -> None:
    page.goto(live_app.url(host, f"/accounts/login/?next={next_path}"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(live_app.url(host, next_path))


def check_page(page: Page, name: str, language: str) -> None:
    """axe-core finds nothing; in Arabic the page is right-to-left, and its screenshots
    (desktop and phone) are saved; at phone width nothing scrolls sideways."""
    html = page.locator("html")
    assert html.get_attribute("lang") == language, name
    assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr"), name
    assert_accessible(page, f"{name} ({language})")
    if language != "ar":
        return
    screenshot(page, f"ar-{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    try:
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        screenshot(page, f"ar-{name}-phone")
    finally:
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px on a phone"
