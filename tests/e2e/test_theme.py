"""The theme editor in Chromium: the live preview follows the form before saving, the
saved theme restyles the school's public pages, and no page breaks the CSP.

The owner changes the primary colour to teal (#0f766e), fonts and button shape, and
picks a logo; the preview's button turns teal at once (before anything is saved).
After saving, the home page and the course catalogue show teal primary buttons, the
logo in the header and pill-shaped buttons. Every page is checked for
Content-Security-Policy violations reported on the console.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.fixtures.browser import REPO_ROOT, VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-strong-pass-1234"
TEAL = "rgb(15, 118, 110)"


def _create_school(slug: str) -> None:
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createschool",
            slug,
            "--name",
            "Teal Academy",
            "--owner-email",
            f"owner@{slug}.test",
            "--password",
            PASSWORD,
        ],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr[-2000:]


def _logo_file(tmp_path: Path) -> Path:
    path = tmp_path / "teal-logo.png"
    image = Image.new("RGBA", (1200, 400), (0, 0, 0, 0))
    image.paste((15, 118, 110, 255), (0, 0, 400, 400))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def csp_console(chromium_browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page whose console CSP reports are collected (independent of csp_guard)."""
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    violations: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page = context.new_page()
    page.on("console", listen)
    try:
        yield page, violations
    finally:
        context.close()


def _background(page: Page, selector: str) -> str:
    return page.locator(selector).first.evaluate("el => getComputedStyle(el).backgroundColor")


def test_theme_editor_live_preview_then_themed_public_pages(
    live_app: LiveApp,
    csp_console: tuple[Page, list[str]],
    chromium_browser: Browser,
    tmp_path: Path,
) -> None:
    page, violations = csp_console
    slug = f"theme-{secrets.token_hex(4)}"
    host = f"{slug}."
    _create_school(slug)

    # --- log in as the owner ------------------------------------------------------------------
    page.goto(live_app.url(host, "/accounts/login/"))
    page.locator('input[name="email"]').fill(f"owner@{slug}.test")
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(host, "/manage/"))

    # --- Site & theme landing -> Theme ----------------------------------------------------------
    page.locator('a[data-nav="site"]').first.click()
    page.wait_for_url(live_app.url(host, "/manage/site/"))
    expect(page.get_by_role("link", name="Pages & builder")).to_have_attribute(
        "href", "/manage/site/pages/"
    )
    page.locator('[data-site-link="theme"]').click()
    page.wait_for_url(live_app.url(host, "/manage/site/theme/"))
    expect(page.get_by_role("heading", name="Theme", exact=True)).to_be_visible()
    expect(page.locator("[data-theme-preview]")).to_have_attribute("data-preview-ready", "true")

    preview_button = "[data-theme-preview] [data-preview-button]"
    assert _background(page, preview_button) == "rgb(79, 70, 229)"  # the default indigo

    # --- the live preview follows the form before saving --------------------------------------
    page.locator('input[name="primary_color"]').fill("#0f766e")
    expect(page.locator(preview_button)).to_have_css("background-color", TEAL)
    expect(page.locator("[data-colour-picker=primary_color]")).to_have_value("#0f766e")
    # White text on teal (automatic on-primary colour).
    expect(page.locator(preview_button)).to_have_css("color", "rgb(255, 255, 255)")
    # Nothing saved yet: the editor's own sidebar (the live theme) is still indigo.
    assert (
        page.evaluate(
            "() => getComputedStyle(document.documentElement)"
            ".getPropertyValue('--school-primary').trim()"
        )
        == "#4f46e5"
    )

    # The colour picker drives the hex field and the preview too.
    page.locator("[data-colour-picker=accent_color]").fill("#be123c")
    expect(page.locator('input[name="accent_color"]')).to_have_value("#be123c")
    expect(page.locator("[data-preview-badge]")).to_have_css("background-color", "rgb(190, 18, 60)")

    # Low contrast shows a warning at once, and it goes away again.
    warnings = page.locator("[data-contrast-warnings]")
    expect(warnings).to_be_hidden()
    page.locator('input[name="text_color"]').fill("#aaaaaa")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("Text on the background has a contrast of 2.32:1")
    page.locator('input[name="text_color"]').fill("#0f172a")
    expect(warnings).to_be_hidden()

    # Fonts and button shape.
    page.locator('select[name="heading_font"]').select_option("lora")
    expect(page.locator("[data-theme-preview] [data-preview-heading]")).to_have_css(
        "font-family",
        '"Lora Variable", "Noto Sans Arabic Variable", ui-serif, Georgia, Cambria, '
        '"Times New Roman", serif',
    )
    page.locator('select[name="body_font"]').select_option("source-sans-3")
    page.locator('input[name="button_shape"][value="pill"]').check()
    expect(page.locator(preview_button)).to_have_css("border-top-left-radius", "9999px")

    # A logo shows in the preview before upload.
    page.locator('input[name="logo"]').set_input_files(str(_logo_file(tmp_path)))
    expect(page.locator("[data-preview-logo]")).to_be_visible()

    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, "theme-editor-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, "theme-editor-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"the theme editor scrolls sideways by {overflow}px at 375px"

    # --- save ----------------------------------------------------------------------------------
    page.locator("[data-save-theme]").click()
    page.wait_for_url(live_app.url(host, "/manage/site/theme/"))
    expect(page.locator("[data-messages]")).to_contain_text("Theme saved")
    expect(page.locator("[data-current-logo]")).to_be_visible()
    assert (
        page.evaluate(
            "() => getComputedStyle(document.documentElement)"
            ".getPropertyValue('--school-primary').trim()"
        )
        == "#0f766e"
    )

    # --- the public pages, as a visitor ------------------------------------------------------
    visitor_context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    visitor_context.set_default_timeout(WAIT_MS)
    visitor_violations: list[str] = []
    visitor_context.on(
        "console",
        lambda m: (
            visitor_violations.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    try:
        visitor = visitor_context.new_page()
        for path, name in (("/", "home"), ("/courses/", "catalogue")):
            response = visitor.goto(live_app.url(host, path))
            assert response is not None and response.status == 200, path
            button = visitor.locator(".btn-primary").first
            expect(button).to_be_visible()
            expect(button).to_have_css("background-color", TEAL)
            expect(button).to_have_css("border-top-left-radius", "9999px")
            logo = visitor.locator("header img[data-school-logo]")
            expect(logo).to_be_visible()
            assert logo.evaluate("img => img.complete && img.naturalWidth") == 512
            heading_font = visitor.locator("main h1").first.evaluate(
                "el => getComputedStyle(el).fontFamily"
            )
            assert heading_font.startswith('"Lora Variable"'), heading_font
            assert visitor.evaluate("() => getComputedStyle(document.body).fontFamily").startswith(
                '"Source Sans 3 Variable"'
            )
            screenshot(visitor, f"theme-applied-{name}-desktop")
        # The favicon link is absent (none uploaded); the login page is themed as well.
        visitor.goto(live_app.url(host, "/accounts/login/"))
        expect(visitor.get_by_role("button", name="Log in", exact=True)).to_have_css(
            "background-color", TEAL
        )
        # Document fonts actually loaded from our own origin.
        visitor.wait_for_function("() => document.fonts.status === 'loaded'")
        loaded = visitor.evaluate(
            "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
        )
        assert any("Source Sans 3" in family for family in loaded), loaded
    finally:
        visitor_context.close()

    assert violations == [], violations
    assert visitor_violations == [], visitor_violations


def test_operator_console_works_under_the_csp(
    live_app: LiveApp, csp_console: tuple[Page, list[str]]
) -> None:
    """Django's admin marks its scripts with the CSP nonce: it logs in, lists and edits
    without a single violation (no per-path relaxation needed)."""
    page, violations = csp_console
    email = f"staff-{secrets.token_hex(4)}@platform.test"
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from courseplatform.accounts.models import User; "
            f"User.objects.create_superuser({email!r}, {PASSWORD!r})",
        ],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr[-2000:]
    page.goto(live_app.url("", "/admin/login/"))
    page.locator('input[name="username"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[type="submit"]').click()
    page.wait_for_url(live_app.url("", "/admin/"))
    for path in ("/admin/tenancy/school/", "/admin/tenancy/school/add/", "/admin/ops/auditlog/"):
        response = page.goto(live_app.url("", path))
        assert response is not None and response.status == 200, path
    # The admin's own scripts ran: the nav sidebar toggle exists and reacts.
    toggle = page.locator("#toggle-nav-sidebar")
    if toggle.count():
        toggle.click()
    assert violations == [], violations
