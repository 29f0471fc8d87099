"""The project shell with axe-core (WCAG 2.2 A/AA), in English and in Arabic.

Platform home, signup, find-school, the unknown-host page, a 404 on a school and the
school's landing page (its header, and the footer with the language switcher): each is
checked in English and in Arabic, and the Arabic pages are screenshot at desktop and
phone widths (test-output/screenshots/ar-<name>-desktop.png and -phone.png) and must
not scroll sideways on a phone. The platform pages follow the browser's language
(``locale``); a school's pages are in the school's language unless the visitor chose
one, so the Arabic context also carries the switcher's cookie for the school's host.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.a11y import PHONE, assert_accessible, language_cookie
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def school_host(committed_db: None, live_app: LiveApp) -> str:
    from courseplatform.onboarding.services import create_school

    slug = f"e2e-shell-{secrets.token_hex(4)}"
    create_school(
        slug=slug,
        name="Shell Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    return f"{slug}."


def _pages(live_app: LiveApp, school_host: str) -> list[tuple[str, str, int]]:
    """(name, url, expected status) of every page checked here."""
    return [
        ("platform-home", live_app.url("", "/"), 200),
        ("signup", live_app.url("", "/signup/"), 200),
        ("find-school", live_app.url("", "/find-school/"), 200),
        ("unknown-host", live_app.url("no-such-school-here.", "/"), 404),
        ("school-404", live_app.url(school_host, "/no-such-page/"), 404),
        ("school-landing", live_app.url(school_host, "/"), 200),
    ]


def _context_page(browser: Browser, *, locale: str, cookies: list[dict[str, str]]) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale=locale)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    if cookies:
        context.add_cookies(cookies)  # type: ignore[arg-type]
    return context.new_page()


def _open(page: Page, url: str, status: int) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response)
    page.wait_for_load_state("load")
    # Web fonts in: the screenshots show Arabic in its own font, not a fallback.
    page.evaluate("() => document.fonts.ready.then(() => true)")


def test_shell_pages_are_accessible_in_english(
    live_app: LiveApp, school_host: str, chromium_browser: Browser
) -> None:
    page = _context_page(chromium_browser, locale="en-US", cookies=[])
    try:
        for name, url, status in _pages(live_app, school_host):
            _open(page, url, status)
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            expect(page.locator("a.skip-link")).to_have_text("Skip to content")
            assert_accessible(page, f"{name} (en)")
    finally:
        page.context.close()


def test_shell_pages_are_accessible_and_right_to_left_in_arabic(
    live_app: LiveApp, school_host: str, chromium_browser: Browser
) -> None:
    school_url = live_app.url(school_host, "/")
    page = _context_page(chromium_browser, locale="ar", cookies=[language_cookie(school_url, "ar")])
    try:
        for name, url, status in _pages(live_app, school_host):
            page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
            _open(page, url, status)
            expect(page.locator("html")).to_have_attribute("lang", "ar")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            expect(page.locator("a.skip-link")).to_have_text("الانتقال إلى المحتوى")
            # Arabic text is set in the self-hosted Noto Sans Arabic.
            assert page.evaluate(
                "() => document.fonts.check('16px \"Noto Sans Arabic Variable\"', 'مرحبا')"
            ), f"{name}: Noto Sans Arabic is not loaded"
            assert_accessible(page, f"{name} (ar)")
            screenshot(page, f"ar-{name}-desktop")
            page.set_viewport_size(PHONE)  # type: ignore[arg-type]
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert_accessible(page, f"{name} (ar, phone)")
            screenshot(page, f"ar-{name}-phone")
            assert overflow <= 0, f"{name}: scrolls sideways by {overflow}px at 390px wide"

        # The school's landing page: its header leads with the school, its footer holds
        # the language switcher showing Arabic, and the header sits at the right edge.
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        _open(page, school_url, 200)
        expect(page.locator("footer select[name=language]")).to_have_value("ar")
        expect(page.get_by_role("navigation", name="الرئيسية")).to_be_visible()
        brand = page.locator("header a").first.bounding_box()
        assert brand is not None and brand["x"] > VIEWPORT["width"] / 2, brand
        # The skip link appears at the inline start (the right) with its focus ring.
        page.keyboard.press("Tab")
        skip = page.locator("a.skip-link")
        expect(skip).to_be_focused()
        box = skip.bounding_box()
        assert box is not None and box["x"] > VIEWPORT["width"] / 2 and box["y"] < 100, box
        outline = skip.evaluate("(el) => getComputedStyle(el).outlineStyle")
        assert outline != "none", outline
        # Tab order through the header follows the visual order: right to left.
        stops = []
        for _ in range(20):
            page.keyboard.press("Tab")
            stop = page.evaluate(
                "() => { const el = document.activeElement; const r = el.getBoundingClientRect();"
                " return {inHeader: !!el.closest('header'), right: r.right, top: r.top}; }"
            )
            if not stop["inHeader"]:
                break
            stops.append((round(stop["top"] / 8), -stop["right"]))
        assert len(stops) >= 4 and stops == sorted(stops), stops
    finally:
        page.context.close()
