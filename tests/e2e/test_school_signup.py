"""One click, one school: the whole signup journey in Chromium against the real app.

The platform home leads to the signup form; the subdomain field checks availability
as you type (htmx); submitting creates the school and hops the owner to the school's
own host with a one-time login link, landing on the dashboard. The link cannot be
replayed; the owner can log in and out again on the school host.

The app runs as a subprocess (``live_app``) whose writes are committed to the shared
test database, so every run uses fresh, random slugs and addresses.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import REPO_ROOT, VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-strong-pass-1234"
GUTTER = 12  # px the page content keeps from the screen edges


@pytest.fixture
def fresh_context(chromium_browser: Browser) -> Iterator:
    """A factory of extra browser contexts (no cookies shared), closed after the test."""
    contexts = []

    def _new() -> Page:
        context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield _new
    finally:
        for context in contexts:
            context.close()


def _desktop_and_phone(page: Page, name: str) -> None:
    """Screenshot at 1280 wide and at phone size; the phone layout must not scroll sideways."""
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 375px wide"


def _unique_slug() -> str:
    return f"e2e-{secrets.token_hex(4)}"


def test_create_school_lands_on_dashboard_and_login_link_is_single_use(
    live_app: LiveApp, page: Page, fresh_context
) -> None:
    page.set_default_timeout(WAIT_MS)
    slug = _unique_slug()
    email = f"owner@{slug}.test"
    school_name = f"E2E School {slug[-8:]}"
    school_host = f"{slug}."

    # --- platform home -------------------------------------------------------------
    response = page.goto(live_app.url())
    assert response is not None and response.status == 200
    expect(page.get_by_role("link", name="Create your school").first).to_be_visible()
    _desktop_and_phone(page, "platform-home")

    page.get_by_role("link", name="Create your school").first.click()
    page.wait_for_url(live_app.url("", "/signup/"))
    expect(page.get_by_role("heading", name="Create your school")).to_be_visible()

    # --- the signup form, with the live subdomain check ----------------------------
    page.locator('input[name="full_name"]').fill("Erin Endtoend")
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[name="school_name"]').fill(school_name)

    status = page.locator("#subdomain-status")
    subdomain = page.locator('input[name="subdomain"]')
    subdomain.fill("admin")
    expect(status).to_contain_text("reserved")
    subdomain.fill(slug)
    expect(status).to_contain_text("is available")
    expect(status).to_contain_text(f"{slug}.localhost")
    screenshot(page, "signup-form-desktop")

    signup_url = live_app.url("", "/signup/")
    with page.expect_response(
        lambda r: r.url == signup_url and r.request.method == "POST"
    ) as posted:
        page.get_by_role("button", name="Create my school").click()
    signup_response = posted.value
    assert signup_response.status == 302, signup_response.status
    login_link = signup_response.headers["location"]
    assert re.fullmatch(
        rf"http://{re.escape(slug)}\.localhost:{live_app.port}/accounts/login-link/[^/]+/",
        login_link,
    ), login_link

    # --- the owner lands on the school's dashboard ---------------------------------
    page.wait_for_url(live_app.url(school_host, "/manage/"))
    assert page.url == f"http://{slug}.localhost:{live_app.port}/manage/"
    expect(page.get_by_role("heading", name=re.compile(r"^Welcome"))).to_be_visible()
    expect(page.locator("body")).to_contain_text(school_name)
    _desktop_and_phone(page, "school-dashboard")

    # --- the login link is single use, even from another browser --------------------
    other = fresh_context()
    replay = other.goto(login_link)
    assert replay is not None
    assert replay.status == 400
    expect(other.locator("body")).to_contain_text("already been used")
    assert other.url == login_link  # no redirect into the dashboard
    dashboard = other.goto(live_app.url(school_host, "/manage/"))
    assert dashboard is not None
    assert "/accounts/login/" in other.url  # still anonymous there

    # --- log in with the owner's password on the school host, then log out ---------
    visitor = fresh_context()
    visitor.goto(live_app.url(school_host, "/accounts/login/"))
    expect(visitor.get_by_role("heading", name=f"Log in to {school_name}")).to_be_visible()
    visitor.locator('input[name="email"]').fill(email)
    visitor.locator('input[name="password"]').fill(PASSWORD)
    visitor.get_by_role("button", name="Log in", exact=True).click()
    visitor.wait_for_url(live_app.url(school_host, "/manage/"))
    expect(visitor.get_by_role("heading", name=re.compile(r"^Welcome"))).to_be_visible()

    visitor.get_by_role("button", name="Log out").first.click()
    visitor.wait_for_url(live_app.url(school_host, "/"))
    expect(visitor.locator("header")).to_contain_text(school_name)
    expect(visitor.get_by_role("link", name="Log in")).to_be_visible()
    _desktop_and_phone(visitor, "school-home")

    # Logged out for real: the dashboard asks for a login again.
    visitor.goto(live_app.url(school_host, "/manage/"))
    assert "/accounts/login/" in visitor.url


def test_school_home_content_stays_inside_the_page_gutters(live_app: LiveApp, page: Page) -> None:
    """The default landing page's blocks keep a margin from the screen edges, like the
    header and footer do, on desktop and on a phone."""
    slug = _unique_slug()
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createschool",
            slug,
            "--name",
            "Gutter School",
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

    response = page.goto(live_app.url(f"{slug}.", "/"))
    assert response is not None and response.status == 200
    expect(page.locator("main .cp-feature").first).to_be_visible()
    for viewport in (VIEWPORT, PHONE):
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        boxes = page.evaluate(
            """() => [...document.querySelectorAll(
                'main h1, main .card, main .btn, main .cp-feature, main .cp-btn, main .cp-redeem'
            )].map(el => {
                // Headings are full-width blocks: measure their text, not their box.
                let target = el;
                if (el.tagName === 'H1') {
                    target = document.createRange();
                    target.selectNodeContents(el);
                }
                const r = target.getBoundingClientRect();
                const label = el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 30);
                return {what: `${el.tagName.toLowerCase()} "${label}"`,
                        left: r.left, right: r.right};
            })"""
        )
        width = viewport["width"]
        cramped = [b for b in boxes if b["left"] < GUTTER or b["right"] > width - GUTTER]
        assert not cramped, (
            f"at {width}px these touch the screen edge (gutter {GUTTER}px): "
            + "; ".join(f"{b['what']!r} {b['left']:.0f}..{b['right']:.0f}" for b in cramped)
        )
