"""The owner's management pages in Chromium, in English and in Arabic: axe-core finds no
WCAG 2.2 A/AA violation, the page is in the language asked for (``<html lang dir>`` and
a translated heading or label), and Arabic screenshots are saved at desktop and phone
width (test-output/screenshots/ar-<page>-desktop|phone.png) without sideways scrolling.

Pages: the dashboard, settings, the audit log, analytics (charts drawn), the school
export and closure pages, a course's archive export and the course import, and the
"closing" page of a school being closed. One live app session, one browser context per
language: the Arabic one carries the footer switcher's cookie (the owner has no
language of their own, the school none set, so the cookie decides).
"""

from __future__ import annotations

import contextlib
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.fixtures.a11y import PHONE, assert_accessible, language_cookie
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def schools(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.analytics.rollups import refresh_school
    from courseplatform.analytics.tests.data import seed_known
    from courseplatform.onboarding.services import create_school
    from courseplatform.ops.services import record_audit
    from courseplatform.portability import closure
    from courseplatform.tenancy.rls import school_context

    token = secrets.token_hex(4)
    made = []
    for name in ("Loom & Thread School", "Closing Crafts"):
        slug = f"e2e-a11y-{name.split()[0].lower()}-{token}"
        made.append(
            create_school(
                slug=slug,
                name=name,
                owner_email=f"owner@{slug}.test",
                owner_password=PASSWORD,
                owner_name="Olive Owner",
            )
        )
    live, closing = made
    data = seed_known(live.school, live.owner)
    with school_context(live.school):
        refresh_school(school=live.school)
        record_audit(
            school=live.school,
            actor=live.owner,
            action="school.settings_changed",
            data={"name": live.school.name},
            ip="203.0.113.7",
        )
    with school_context(closing.school):
        closure.request_closure(
            school=closing.school,
            actor=closing.owner,
            confirm_slug=closing.school.slug,
            password=PASSWORD,
        )
    return SimpleNamespace(live=live, closing=closing, course=data.alpha.course)


# (name, path, expected text in en, in ar): the text proves the page is translated.
def _pages(course_id: int) -> list[tuple[str, str, str, str]]:
    return [
        ("dashboard", "/manage/", "Plan usage", "استخدام الخطة"),
        ("settings", "/manage/settings/", "Integrations", "التكاملات"),
        ("audit-log", "/manage/audit/", "Newest first", "الأحدث أولًا"),
        (
            "analytics",
            f"/manage/analytics/?course={course_id}",
            "Students enrolled",
            "الطلاب المسجلون",
        ),
        ("school-export", "/manage/settings/export/", "Start the export", "بدء التصدير"),
        ("school-close", "/manage/settings/close/", "What happens", "ما سيحدث"),
        ("course-export", f"/manage/courses/{course_id}/export/", "New archive", "أرشيف جديد"),
        ("course-import", "/manage/courses/import/", "Upload an archive", "رفع أرشيف"),
    ]


def _context(browser: Browser, live_app: LiveApp, hosts: list[str], language: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    if language != "en":
        context.add_cookies(
            [language_cookie(live_app.url(host, "/"), language) for host in hosts]  # type: ignore[misc]
        )
    return context


def _sign_in(page: Page, live_app: LiveApp, host: str, email: str) -> None:
    page.goto(live_app.url(host, "/accounts/login/?next=/manage/"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    # Pressing Enter submits the form whatever the button says in this language.
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _check_language(page: Page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")


def desktop_and_phone(page: Page, name: str) -> None:
    """Screenshots at 1280 and 390 wide; the phone layout must not scroll sideways."""
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    fits = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    # Charts re-measure after a resize (asynchronously): let the layout settle first.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(fits, timeout=WAIT_MS)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 390px wide"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_management_pages_are_accessible_and_translated(
    live_app: LiveApp, schools: Any, chromium_browser: Browser, language: str
) -> None:
    live_host = f"{schools.live.school.slug}."
    closing_host = f"{schools.closing.school.slug}."
    context = _context(chromium_browser, live_app, [live_host, closing_host], language)
    try:
        page = context.new_page()
        _sign_in(page, live_app, live_host, schools.live.owner.email)
        for name, path, english, arabic in _pages(schools.course.pk):
            page.goto(live_app.url(live_host, path))
            _check_language(page, language)
            expect(page.locator("body")).to_contain_text(arabic if language == "ar" else english)
            if name == "analytics":
                charts = page.locator("canvas[data-chart]")
                expect(charts).to_have_count(6)
                for index in range(6):
                    expect(charts.nth(index)).to_have_attribute("data-chart-ready", "1")
            assert_accessible(page, f"{language}-{name}")
            if language == "ar":
                desktop_and_phone(page, f"ar-{name}")

        # The closing page of a school being closed, signed in as its owner.
        page = context.new_page()
        _sign_in(page, live_app, closing_host, schools.closing.owner.email)
        page.goto(live_app.url(closing_host, "/manage/settings/close/"))
        _check_language(page, language)
        expect(page.locator("[data-cancel-closure]")).to_have_text(
            "إلغاء الإغلاق" if language == "ar" else "Cancel the closure"
        )
        assert_accessible(page, f"{language}-school-closing")
        if language == "ar":
            desktop_and_phone(page, "ar-school-closing")
    finally:
        context.close()
