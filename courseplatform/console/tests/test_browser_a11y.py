"""The operator console in Chromium, in English and in Arabic: axe-core finds no WCAG 2.2
A/AA violation on the overview (its six charts drawn), the school list, a school's page
and the audit log; each page is in the language asked for; Arabic screenshots at desktop
and phone width (test-output/screenshots/ar-console-<page>-desktop|phone.png).

Staff accounts belong to no school, so their language is their own or the browser's:
the Arabic pass sends ``Accept-Language: ar`` (a browser context in the ``ar`` locale)
and the staff account has no language of its own.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from courseplatform.dashboard.tests.test_browser_a11y import desktop_and_phone
from tests.fixtures.a11y import assert_accessible
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def cast(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.accounts.models import User
    from courseplatform.courses.services import create_course
    from courseplatform.onboarding.services import create_school
    from courseplatform.ops.services import record_audit
    from courseplatform.tenancy.rls import school_context

    token = secrets.token_hex(4)
    slug = f"e2e-console-a11y-{token}"
    created = create_school(
        slug=slug,
        name="Brushwork Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Bea Owner",
    )
    with school_context(created.school):
        create_course(school=created.school, actor=created.owner, title="Watercolour basics")
        record_audit(
            school=created.school,
            actor=created.owner,
            action="school.settings_changed",
            data={"name": created.school.name},
            ip="203.0.113.7",
        )
    staff = User.objects.create_superuser(f"staff-{token}@platform.test", PASSWORD)
    assert not staff.language
    return SimpleNamespace(school=created.school, staff=staff, token=token)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_console_pages_are_accessible_and_translated(
    live_app: LiveApp, cast: Any, chromium_browser: Browser, language: str
) -> None:
    slug = cast.school.slug
    pages = [
        ("overview", "/console/", "Schools by plan", "المدارس حسب الخطة"),
        ("schools", f"/console/schools/?q={cast.token}", "Last activity", "آخر نشاط"),
        (
            "school",
            f"/console/schools/{slug}/",
            "Usage against the plan",
            "الاستخدام مقارنة بالخطة",
        ),
        ("audit-log", f"/console/audit/?school={slug}", "Newest first", "الأحدث أولًا"),
    ]
    context = chromium_browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="ar" if language == "ar" else "en-US",
    )
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_app.url("", "/admin/login/?next=/console/"))
        page.locator('input[name="username"]').fill(cast.staff.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('input[type="submit"]').click()
        page.wait_for_url(live_app.url("", "/console/"))
        for name, path, english, arabic in pages:
            page.goto(live_app.url("", path))
            html = page.locator("html")
            expect(html).to_have_attribute("lang", language)
            expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
            expect(page.locator("body")).to_contain_text(arabic if language == "ar" else english)
            if name == "overview":
                expect(page.locator("canvas[data-chart-ready]")).to_have_count(6)
            if name == "schools":
                expect(page.locator("table tbody tr")).to_have_count(1)
            assert_accessible(page, f"{language}-console-{name}")
            if language == "ar":
                desktop_and_phone(page, f"ar-console-{name}")
    finally:
        context.close()
