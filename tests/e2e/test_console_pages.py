"""The owner's audit viewer and the operator console in Chromium against the real app:
the owner opens Audit log from the menu and filters it; staff sign in on the platform
host, read the overview with its charts, filter the schools, suspend one and read the
audit log across schools. Screenshots at desktop and phone width, no sideways
scrolling, and the strict CSP holds (csp_guard).

The live app runs in a subprocess that sees only committed rows: the schools, their
log and the staff account are created here, under fresh names per run.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def cast(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.accounts.models import User
    from courseplatform.courses.services import create_course
    from courseplatform.onboarding.services import create_school
    from courseplatform.ops.services import record_audit
    from courseplatform.tenancy.rls import school_context

    token = secrets.token_hex(4)
    made = []
    for name in ("Brushwork Studio", "Other Place"):
        slug = f"e2e-audit-{name.split()[0].lower()}-{token}"
        created = create_school(
            slug=slug,
            name=name,
            owner_email=f"owner@{slug}.test",
            owner_password=PASSWORD,
            owner_name=f"{name} Owner",
        )
        with school_context(created.school):
            for title in ("Watercolour basics", "Ink and wash", "Colour theory"):
                create_course(school=created.school, actor=created.owner, title=f"{name}: {title}")
            record_audit(
                school=created.school,
                actor=created.owner,
                action="school.settings_changed",
                data={"name": name},
                ip="203.0.113.7",
            )
        made.append(created)
    staff = User.objects.create_superuser(f"staff-{token}@platform.test", PASSWORD)
    return SimpleNamespace(school=made[0], other=made[1], staff=staff, token=token)


def desktop_and_phone(page: Page, name: str) -> None:
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    # Charts re-measure their box after a resize (a ResizeObserver, asynchronous): on a
    # busy machine the page is still desktop-wide for a moment. Wait for the layout to
    # settle, then judge it.
    fits = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(fits, timeout=WAIT_MS)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 375px wide"


def test_owner_reads_and_filters_the_audit_log(
    live_app: LiveApp, cast: Any, chromium_browser: Browser
) -> None:
    school = cast.school.school
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_app.url(f"{school.slug}.", "/accounts/login/?next=/manage/"))
        page.locator('input[name="email"]').fill(cast.school.owner.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(live_app.url(f"{school.slug}.", "/manage/"))
        page.locator('aside a[data-nav="audit"]').click()
        page.wait_for_url(live_app.url(f"{school.slug}.", "/manage/audit/"))
        expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
        table = page.locator("table")
        expect(table).to_contain_text("course.created")
        expect(table).to_contain_text("school.settings_changed")
        expect(table).not_to_contain_text("Other Place")
        desktop_and_phone(page, "audit-log-owner")

        page.get_by_label("Action").fill("school.settings_changed")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(re.compile(r"action=school.settings_changed"))
        expect(table.locator("tbody tr")).to_have_count(1)
        expect(table).to_contain_text("203.0.113.7")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        body = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "school.settings_changed" in body and "course.created" not in body
        desktop_and_phone(page, "audit-log-owner-filtered")
    finally:
        context.close()


def test_staff_use_the_operator_console(
    live_app: LiveApp, cast: Any, chromium_browser: Browser
) -> None:
    school = cast.school.school
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_app.url("", "/console/"))
        page.wait_for_url(re.compile(r"/admin/login/\?next=/console/"))
        page.locator('input[name="username"]').fill(cast.staff.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('input[type="submit"]').click()
        page.wait_for_url(live_app.url("", "/console/"))
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        # The six weekly charts are drawn by the shared bundle (none reports an error),
        # requests per week among them (this very sign-in counted; maybe not flushed).
        expect(page.locator("canvas[data-chart-ready]")).to_have_count(6)
        expect(page.locator("canvas[data-chart-error]")).to_have_count(0)
        expect(page.get_by_role("heading", name="Requests", exact=True)).to_be_visible()
        with page.expect_download() as download:
            page.locator('a[data-csv="requests"]').click()
        lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "week,Requests" and len(lines) == 13
        desktop_and_phone(page, "console-overview")

        page.locator('aside a[data-nav="schools"]').click()
        page.get_by_label("Search").fill(cast.token)
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Brushwork Studio")
        desktop_and_phone(page, "console-schools")

        page.locator("table").get_by_role("link", name="Brushwork Studio").click()
        page.wait_for_url(live_app.url("", f"/console/schools/{school.slug}/"))
        expect(page.get_by_text("Courses", exact=True)).to_be_visible()
        page.get_by_label("Reason").fill("Unpaid invoice")
        page.get_by_role("button", name="Suspend school").click()
        expect(page.get_by_text("is suspended.")).to_be_visible()
        expect(page.get_by_text("Suspended: Unpaid invoice")).to_be_visible()
        desktop_and_phone(page, "console-school")

        page.get_by_role("link", name="All of this school's entries").click()
        table = page.locator("table")
        expect(table).to_contain_text("school.suspended")
        expect(table).to_contain_text(cast.staff.email)
        expect(table).not_to_contain_text("Other Place")
        desktop_and_phone(page, "console-audit-log")
    finally:
        context.close()


def test_staff_open_a_school_as_its_owner_with_a_banner(
    live_app: LiveApp, cast: Any, chromium_browser: Browser
) -> None:
    school = cast.other.school
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_app.url("", f"/admin/login/?next=/console/schools/{school.slug}/"))
        page.locator('input[name="username"]').fill(cast.staff.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('input[type="submit"]').click()
        page.wait_for_url(live_app.url("", f"/console/schools/{school.slug}/"))
        page.get_by_role("button", name="Open as owner").click()
        # The one-time link leads to the school's own host, signed in as its owner.
        page.wait_for_url(live_app.url(f"{school.slug}.", "/manage/"))
        banner = page.locator("[data-impersonation-banner]")
        expect(banner).to_contain_text(cast.staff.email)
        expect(banner).to_contain_text(cast.other.owner.email)
        desktop_and_phone(page, "impersonation-manage")
        page.locator('aside a[data-nav="courses"]').click()
        expect(banner).to_be_visible()
        banner.get_by_role("button", name="End").click()
        page.wait_for_url(live_app.url(f"{school.slug}.", "/"))
        expect(page.locator("[data-impersonation-banner]")).to_have_count(0)
    finally:
        context.close()
