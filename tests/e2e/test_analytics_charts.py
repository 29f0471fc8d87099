"""Instructor analytics in Chromium: every chart drawn by the bundled Chart.js
(dist/charts.js) from its JSON block, under the strict CSP (csp_guard fails the test on
any violation), at desktop and phone widths with screenshots; the date-range form works
without JavaScript and explains a bad range.

The app runs in a subprocess (``live_app``) that sees only committed rows: the school and
its known dataset (``analytics/tests/data.py``) are created here without a wrapping
transaction, under a fresh slug per run.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"
CHARTS = (
    "chart-enrolments",
    "chart-activity",
    "chart-completion",
    "chart-redemptions",
    "chart-funnel",
    "chart-watch-time",
)


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.analytics.rollups import refresh_school
    from courseplatform.analytics.tests.data import seed_known
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-stats-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Loom & Thread School",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    data = seed_known(created.school, created.owner)
    with school_context(created.school):
        refresh_school(school=created.school)
    return SimpleNamespace(host=f"{slug}.", owner=created.owner, data=data)


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_charts_render_under_the_csp_on_desktop_and_phone(
    live_app: LiveApp, school: Any, page: Page
) -> None:
    page.goto(live_app.url(school.host, "/accounts/login/"))
    page.locator('input[name="email"]').fill(school.owner.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(school.host, "/manage/"))

    page.locator("nav").first.get_by_role("link", name="Analytics").click()
    course = school.data.alpha.course.pk
    page.goto(live_app.url(school.host, f"/manage/analytics/?course={course}"))
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    for chart in CHARTS:
        canvas = page.locator(f"canvas#{chart}")
        expect(canvas).to_have_attribute("data-chart-ready", "1")
        assert canvas.get_attribute("data-chart-error") is None
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, chart
    # Chart.js drew something: the canvas is not blank.
    painted = page.evaluate(
        """() => {
          const c = document.querySelector('canvas#chart-completion');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
          return n;
        }"""
    )
    assert painted > 500
    expect(page.locator('[data-total="new-enrolments"]')).to_have_text("4")
    expect(page.locator("[data-as-of] time")).to_be_visible()

    screenshot(page, "analytics-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(page.locator("canvas#chart-funnel")).to_have_attribute("data-chart-ready", "1")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, "analytics-phone")
    assert widths[0] <= widths[1] + 1, f"the page is {widths[0]}px wide at {widths[1]}px"
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]

    # The range form is a plain GET form: a reversed range is explained, no chart drawn.
    page.get_by_label("From").fill("2026-12-05")
    page.get_by_label("To (included)").fill("2026-11-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("is after the end date")
    expect(page.locator("canvas[data-chart]")).to_have_count(0)
    screenshot(page, "analytics-bad-range")
