"""The "features" pages in Chromium, in English and in Arabic: axe-core finds no WCAG 2.2
A/AA violation, each page is in the language asked for (``<html lang dir>`` and a
translated heading or message), and the Arabic pages are saved as screenshots at desktop
and phone width (test-output/screenshots/ar-<page>-desktop|phone.png) without sideways
scrolling.

Pages: /redeem/ signed out, signed in, with a wrong code, with a code kept across the
sign-in and the course page it lands on; the access code batches, a batch and a code
(management); announcements for the owner (with sending progress) and for the student
(course page block, My courses block) and the unsubscribe page; the bulk student import
(upload, preview, result); custom domains. One live app, one browser context per person
and language; the Arabic contexts carry the footer switcher's cookie (nobody has a
language of their own and the school has none set, so the cookie decides).
"""

from __future__ import annotations

import contextlib
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.fixtures.a11y import (
    PHONE,
    WCAG_TAGS,
    _axe_source,
    assert_accessible,
    describe,
    language_cookie,
)
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"


def _domain(school: Any, owner: Any, slug: str) -> None:
    from courseplatform.domains import services
    from courseplatform.domains.verification import CheckResult, Finding, Outcome, State

    pending = services.add_domain(school=school, actor=owner, hostname=f"learn.{slug}-art.test")
    target = f"{slug}.localhost"
    services.apply_check(
        school=school,
        domain=pending,
        result=CheckResult(
            Outcome.UNVERIFIED,
            [
                Finding(
                    "CNAME",
                    pending.hostname,
                    [target],
                    State.WRONG,
                    ["parking.registrar.test"],
                    f"{pending.hostname} is a CNAME to parking.registrar.test.",
                ),
                Finding(
                    "TXT",
                    f"_courseplatform.{pending.hostname}",
                    [pending.verification_token],
                    State.MISSING,
                    [],
                    "No TXT record yet.",
                ),
            ],
            "CNAME elsewhere; TXT missing.",
        ),
    )


def _imports(school: Any, owner: Any, slug: str, course_slug: str) -> tuple[int, int]:
    """A preview with every kind of row, and an import already applied."""
    from courseplatform.roster import services
    from courseplatform.roster.tasks import run_import_batch

    rows = [
        "name,email,courses",
        f"Ann New,ann@{slug}.test,{course_slug}",
        '"=HYPERLINK(""x"")",fay@' + slug + ".test,",
        "No Address,not-an-email,",
        f"Uma Unknown,uma@{slug}.test,no-such-course",
    ]
    preview = services.create_import(
        school=school,
        actor=owner,
        upload=SimpleUploadedFile("cohort.csv", "\r\n".join(rows).encode()),
    )
    done = services.create_import(
        school=school,
        actor=owner,
        upload=SimpleUploadedFile(
            "done.csv", f"name,email\r\nBea Done,bea@{slug}.test\r\n".encode()
        ),
    )
    services.apply_import(school=school, actor=owner, student_import=done)
    run_import_batch(school_id=school.pk, import_id=done.pk)
    return preview.pk, done.pk


@pytest.fixture
def world(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.access.services import create_batch, export_batch_codes
    from courseplatform.accounts.services import register_user
    from courseplatform.courses.models import Enrollment
    from courseplatform.courses.services import (
        add_lesson,
        add_section,
        create_course,
        enroll_student,
        set_course_status,
    )
    from courseplatform.notices.services import create_announcement
    from courseplatform.notices.tasks import run_announcement_batch, unsubscribe_url
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-feat-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Ink & Wash Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
        plan_code="enterprise",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = create_course(
            school=school, actor=owner, title="Ink Painting", subtitle="Brush and water"
        )
        section = add_section(school=school, actor=owner, course=course, title="Start here")
        add_lesson(school=school, actor=owner, section=section, title="Welcome")
        course = set_course_status(school=school, actor=owner, course=course, publish=True)
        other = create_course(school=school, actor=owner, title="Colour Mixing")
        other_section = add_section(school=school, actor=owner, course=other, title="Basics")
        add_lesson(school=school, actor=owner, section=other_section, title="Hello")
        other = set_course_status(school=school, actor=owner, course=other, publish=True)
        batch = create_batch(
            school=school,
            actor=owner,
            name="Spring workshop",
            course_ids=[course.pk, other.pk],
            code_count=3,
            uses_per_code=2,
            note="Handed out at the library.",
        )
        student = register_user(
            school=school, email=f"sam@{slug}.test", password=PASSWORD, full_name="Sam Student"
        )
        newcomer = register_user(
            school=school, email=f"nia@{slug}.test", password=PASSWORD, full_name="Nia New"
        )
        enroll_student(
            school=school,
            actor=owner,
            course=course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )
        announcement = create_announcement(
            school=school,
            actor=owner,
            course=course,
            title="Live Q&A on Thursday",
            body_md="Bring your **brushes**.",
        )
        run_announcement_batch(school_id=school.pk, announcement_id=announcement.pk)
        code = export_batch_codes(school=school, actor=owner, batch=batch.batch)[0]
        _domain(school, owner, slug)
        preview_id, done_id = _imports(school, owner, slug, course.slug)
        unsubscribe = unsubscribe_url(school=school, user_id=student.pk, pref=None)
    return SimpleNamespace(
        host=f"{slug}.",
        owner=owner,
        student=student,
        newcomer=newcomer,
        course=course,
        batch=batch.batch,
        code=code,
        codes=batch.codes,
        preview_id=preview_id,
        done_id=done_id,
        unsubscribe_path=unsubscribe[unsubscribe.index("/email/") :],
    )


def _context(browser: Browser, live_app: LiveApp, host: str, language: str) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    if language != "en":
        context.add_cookies([language_cookie(live_app.url(host, "/"), language)])  # type: ignore[list-item]
    return context


def _sign_in(page: Page, live_app: LiveApp, host: str, email: str) -> None:
    page.goto(live_app.url(host, "/accounts/login/"), timeout=120_000)
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    # Enter submits whatever the button says in this language.
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _assert_part_accessible(page: Page, selector: str, name: str) -> None:
    """axe-core on the elements matching ``selector`` only: this area's block inside
    a page another app owns (the course page, My courses)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    violations = page.evaluate(
        "async ([selector, options]) => (await window.axe.run("
        "{include: [[selector]]}, options)).violations",
        [selector, options],
    )
    assert not violations, f"axe-core: WCAG violations in {selector} on {name}:\n" + describe(
        violations
    )


def _check(
    page: Page, language: str, name: str, text: str, *, axe: bool = True, part: str = ""
) -> None:
    """The page is in ``language``, shows ``text``, passes axe (the whole page, or only
    ``part`` of it); Arabic: screenshots."""
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(page.get_by_text(text, exact=False).first).to_be_visible()
    if part:
        _assert_part_accessible(page, part, f"{name} ({language})")
    elif axe:
        assert_accessible(page, f"{name} ({language})")
    if language == "ar":
        _desktop_and_phone(page, f"ar-{name}")


def _desktop_and_phone(page: Page, name: str) -> None:
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    fits = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(fits, timeout=WAIT_MS)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 390px wide"


# Text that proves each page is translated: (English, Arabic).
TEXT = {
    "redeem": ("Redeem an access code", "استرداد رمز وصول"),
    "redeem-wrong-code": ("We could not find that code", "لم نعثر على هذا الرمز"),
    "redeem-kept-code": ("We kept your code", "احتفظنا برمزك"),
    "redeem-accepted": ("Code accepted!", "تم قبول الرمز!"),
    "codes-batches": ("Code batches", "دفعات الرموز"),
    "codes-batch": ("Code details", "تفاصيل الرمز"),
    "codes-code": ("Revoke this code", "إلغاء هذا الرمز"),
    "announcements-manage": ("Post and email students", "نشر وإرسال إلى الطلاب"),
    "announcements-course": ("Announcements", "الإعلانات"),
    "announcements-my-courses": ("Stop course emails", "إيقاف رسائل الدورات"),
    "unsubscribe": ("Stop course emails from", "هل تريد إيقاف رسائل الدورات من"),
    "import-upload": ("Upload a list", "رفع قائمة"),
    "import-preview": ("Nothing has changed yet.", "لم يتغير شيء بعد."),
    "import-result": ("Download the result report (CSV)", "تنزيل تقرير النتائج (CSV)"),
    "domains": ("DNS records to create at your DNS provider", "سجلات DNS التي تُنشأ"),
}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_features_pages_are_accessible_and_translated(
    live_app: LiveApp, world: Any, chromium_browser: Browser, language: str
) -> None:
    host = world.host
    column = 1 if language == "ar" else 0

    def check(page: Page, name: str, *, axe: bool = True, part: str = "") -> None:
        _check(page, language, name, TEXT[name][column], axe=axe, part=part)

    # --- a visitor, then a student, redeeming codes ----------------------------------
    visitor = _context(chromium_browser, live_app, host, language)
    page = visitor.new_page()
    page.goto(live_app.url(host, "/redeem/"), timeout=120_000)
    check(page, "redeem")
    # A code from a link, signed out: kept for after the sign-in, then shown to redeem.
    page.goto(live_app.url(host, f"/redeem/?code={world.codes[1]}"))
    page.wait_for_url(lambda url: "/accounts/signup/" in url)
    _sign_in(page, live_app, host, world.newcomer.email)
    page.goto(live_app.url(host, "/redeem/"))
    expect(page.locator("[data-kept-code]")).to_be_visible()
    check(page, "redeem-kept-code")
    page.locator("[data-redeem-form] button[type=submit]").click()
    page.wait_for_url(live_app.url(host, f"/courses/{world.course.slug}/"))
    # The course page is the courses app's; only the message is this area's.
    check(page, "redeem-accepted", axe=False)
    visitor.close()

    student = _context(chromium_browser, live_app, host, language)
    page = student.new_page()
    _sign_in(page, live_app, host, world.student.email)
    page.goto(live_app.url(host, "/redeem/"))
    page.locator('input[name="code"]').fill("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    page.locator("[data-redeem-form] button[type=submit]").click()
    expect(page.locator(".field-error")).to_be_visible()
    check(page, "redeem-wrong-code")
    page.goto(live_app.url(host, f"/courses/{world.course.slug}/"))
    expect(page.locator("[data-announcements]")).to_contain_text("Live Q&A on Thursday")
    # The course page and My courses are the courses app's: axe checks this area's blocks.
    check(page, "announcements-course", part="[data-announcements]")
    page.goto(live_app.url(host, "/my/"))
    expect(page.locator("[data-course-emails]")).to_be_visible()
    check(page, "announcements-my-courses", part="[data-announcements]")
    page.goto(live_app.url(host, world.unsubscribe_path))
    check(page, "unsubscribe")
    student.close()

    # --- the owner's pages --------------------------------------------------------------
    owner = _context(chromium_browser, live_app, host, language)
    page = owner.new_page()
    _sign_in(page, live_app, host, world.owner.email)
    pages = [
        ("codes-batches", "/manage/codes/"),
        ("codes-batch", f"/manage/codes/{world.batch.pk}/"),
        ("codes-code", f"/manage/codes/codes/{world.code.pk}/"),
        ("announcements-manage", f"/manage/courses/{world.course.pk}/announcements/"),
        ("import-upload", "/manage/students/import/"),
        ("import-preview", f"/manage/students/import/{world.preview_id}/"),
        ("import-result", f"/manage/students/import/{world.done_id}/"),
        ("domains", "/manage/domains/"),
    ]
    for name, path in pages:
        page.goto(live_app.url(host, path))
        check(page, name)
    owner.close()
