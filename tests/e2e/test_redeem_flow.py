"""Access codes in Chromium against the real app.

A logged-out visitor opens the school's /redeem/, types a code the way people do
(lower case, spaces), is asked to sign up, signs up and lands on the course page,
enrolled, without typing the code again. The owner makes a batch in
/manage/codes/ and sees its codes listed once on the batch page.

The app runs in a subprocess (``live_app``) that only sees committed rows, so the
school, course and batch are created here through the app's own services with no
wrapping test transaction, under a fresh slug per run.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import VIEWPORT, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"
CODE_PATTERN = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.access.services import create_batch
    from courseplatform.courses.services import (
        add_lesson,
        add_section,
        create_course,
        set_course_status,
    )
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-codes-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Brushwork Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        courses = []
        for title in ("Watercolour Basics", "Colour Theory"):
            course = create_course(
                school=school, actor=owner, title=title, subtitle="Learn at your own pace"
            )
            section = add_section(school=school, actor=owner, course=course, title="Start here")
            add_lesson(school=school, actor=owner, section=section, title="Welcome")
            courses.append(
                set_course_status(school=school, actor=owner, course=course, publish=True)
            )
        batch = create_batch(
            school=school,
            actor=owner,
            name="Spring workshop",
            course_ids=[c.pk for c in courses],
            code_count=5,
        )
    return SimpleNamespace(
        slug=slug,
        host=f"{slug}.",
        school=school,
        owner=owner,
        courses=courses,
        codes=batch.codes,
        batch=batch.batch,
    )


def desktop_and_phone(page: Page, name: str) -> None:
    """Screenshots at 1280 and 375 wide; at 375 the page must not scroll sideways."""
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 375px wide"


def enrolled_course_ids(school: Any, email: str) -> set[int]:
    from courseplatform.courses.models import Enrollment
    from courseplatform.tenancy.rls import school_context

    with school_context(school.school):
        return set(
            Enrollment.objects.filter(school=school.school, student__email=email).values_list(
                "course_id", flat=True
            )
        )


def test_signed_out_student_redeems_through_signup(
    live_app: LiveApp, school: Any, new_page: Any
) -> None:
    page = new_page()
    email = f"student@{school.slug}.test"

    response = page.goto(live_app.url(school.host, "/"))
    assert response is not None and response.status == 200
    page.get_by_role("link", name="Redeem a code").first.click()
    page.wait_for_url(live_app.url(school.host, "/redeem/"))
    expect(page.get_by_role("heading", name="Redeem an access code")).to_be_visible()
    code_input = page.get_by_label("Your access code")
    expect(code_input).to_have_attribute("autocomplete", "off")
    expect(code_input).to_have_attribute("autocapitalize", "characters")
    desktop_and_phone(page, "redeem-signed-out")

    # Typed the way people do: lower case, spaces instead of dashes.
    code_input.fill(school.codes[0].lower().replace("-", " "))
    page.get_by_role("button", name="Redeem").click()
    page.wait_for_url(re.compile(r"/accounts/signup/\?next=(/|%2F)redeem(/|%2F)$"))
    expect(page.get_by_text("Create an account or log in to redeem your code")).to_be_visible()
    expect(page.get_by_role("link", name="Log in").last).to_be_visible()
    assert enrolled_course_ids(school, email) == set()

    page.locator('input[name="full_name"]').fill("Sam Student")
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    course_url = live_app.url(school.host, f"/courses/{school.courses[0].slug}/")
    page.wait_for_url(course_url)
    expect(page.get_by_text("Code accepted!")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Watercolour Basics")
    assert enrolled_course_ids(school, email) == {c.pk for c in school.courses}
    desktop_and_phone(page, "redeem-landed-on-course")

    # The same code again: already enrolled, nothing consumed, said kindly.
    page.goto(live_app.url(school.host, "/redeem/"))
    page.get_by_label("Your access code").fill(school.codes[0])
    page.get_by_role("button", name="Redeem").click()
    page.wait_for_url(course_url)
    expect(page.get_by_text("already have access")).to_be_visible()

    # A wrong code: the reason, inline, and the typed value kept.
    page.goto(live_app.url(school.host, "/redeem/"))
    page.get_by_label("Your access code").fill("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    page.get_by_role("button", name="Redeem").click()
    expect(page.get_by_text("We could not find that code")).to_be_visible()
    expect(page.get_by_label("Your access code")).to_have_value("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    desktop_and_phone(page, "redeem-error")

    from courseplatform.access.models import AccessCode
    from courseplatform.tenancy.rls import school_context

    with school_context(school.school):
        uses = sorted(
            AccessCode.objects.filter(school=school.school, batch=school.batch).values_list(
                "uses_count", flat=True
            )
        )
    assert uses == [0, 0, 0, 0, 1]


def test_owner_creates_a_batch_and_sees_its_codes_once(
    live_app: LiveApp, school: Any, new_page: Any
) -> None:
    page = new_page()
    page.goto(live_app.url(school.host, "/accounts/login/?next=/manage/codes/"))
    page.locator('input[name="email"]').fill(school.owner.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(school.host, "/manage/codes/"))
    expect(page.get_by_role("heading", name="Access codes", exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text("Spring workshop")

    page.get_by_text("New batch").click()
    page.get_by_label("Batch name").fill("Summer camp")
    page.get_by_label("Colour Theory").check()
    page.get_by_label("Number of codes").fill("12")
    page.get_by_label("Uses per code").fill("2")
    page.get_by_label("Note").fill("For the July group")
    desktop_and_phone(page, "codes-new-batch-form")
    page.get_by_role("button", name="Create codes").click()

    page.wait_for_url(re.compile(r"/manage/codes/\d+/$"))
    panel = page.locator("[data-new-codes]")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Your 12 new codes")
    listed = CODE_PATTERN.findall(panel.inner_text())
    assert len(set(listed)) == 12
    expect(page.get_by_role("link", name="Download CSV").first).to_be_visible()
    desktop_and_phone(page, "codes-batch-new")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == "code,uses,max_uses,revoked,redeemed_by"
    assert set(CODE_PATTERN.findall(csv_text)) == set(listed)

    page.reload()
    expect(page.locator("[data-new-codes]")).to_have_count(0)  # shown once
    expect(page.locator("[data-code]")).to_have_count(12)

    # Revoking the batch asks first.
    page.get_by_text("Revoke batch…").click()
    expect(page.get_by_text("Revoke all 12 codes?")).to_be_visible()
    page.get_by_role("button", name="Yes, revoke this batch").click()
    expect(page.locator('[data-batch-status="revoked"]')).to_be_visible()
    expect(page.locator('[data-stat="remaining"]')).to_have_text("0")

    page.goto(live_app.url(school.host, "/manage/codes/"))
    desktop_and_phone(page, "codes-batch-list")

    # A redemption, so the first batch's page has something to show.
    from courseplatform.access.services import redeem_code
    from courseplatform.accounts.models import User
    from courseplatform.tenancy.rls import school_context

    with school_context(school.school):
        student = User.objects.create_user(
            f"ria@{school.slug}.test", PASSWORD, school=school.school, full_name="Ria Redeemer"
        )
        redeem_code(school=school.school, student=student, raw_code=school.codes[1])
    page.goto(live_app.url(school.host, f"/manage/codes/{school.batch.pk}/"))
    expect(page.locator("[data-redemption]")).to_contain_text("Ria Redeemer")
    expect(page.locator('[data-stat="used"]')).to_have_text("1")
    desktop_and_phone(page, "codes-batch-page")
