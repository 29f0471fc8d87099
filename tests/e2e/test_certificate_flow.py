"""Certificates in Chromium: the owner turns the certificate on, a student reads the
first lesson and passes the quiz (``tests/e2e/test_quiz_flow.py``'s course and steps),
which completes the course; the student finds the certificate on My courses, downloads
the PDF, opens its public page and has the downloaded PDF verified there. Screenshots of
the verification page at 1280 px and 375 px (no sideways scrolling on the phone).

The school, course, quiz and enrolment are made through the services (committed: the
live app runs in a subprocess); everything else goes through the UI.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.e2e.test_quiz_flow import course as course  # the fixture, reused
from tests.e2e.test_quiz_flow import student_passes_the_quiz
from tests.fixtures.browser import SCREENSHOT_DIR, VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"
# Generous: the live app's first request imports every view under coverage, and the
# machine may be shared with other suites.
SLOW_WAIT_MS = 2 * WAIT_MS  # a certificate PDF rendered under coverage
COURSE_TITLE = "Night Sky Basics"


@pytest.fixture
def new_page(chromium_browser: Browser) -> Iterator[Any]:
    contexts = []

    def _new() -> Page:
        context = chromium_browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
        context.set_default_timeout(SLOW_WAIT_MS)
        # The live app's first page imports and compiles everything under coverage: on a
        # 2-core machine shared with other suites that has taken over a minute.
        context.set_default_navigation_timeout(3 * SLOW_WAIT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield _new
    finally:
        for context in contexts:
            context.close()


def log_in(page: Page, live_app: LiveApp, host: str, email: str, landing: str) -> None:
    page.goto(live_app.url(host, "/accounts/login/"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(host, landing))


def desktop_and_phone(page: Page, name: str) -> None:
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert widths[0] <= widths[1] + 1, f"{name}: {widths[0]}px wide at {widths[1]}px"


def test_student_passes_the_quiz_and_downloads_a_verifiable_certificate(
    live_app: LiveApp, course: Any, new_page: Any
) -> None:
    host = course.host

    # --- the owner turns the certificate on --------------------------------------------
    owner_page = new_page()
    log_in(owner_page, live_app, host, course.owner.email, "/manage/")
    owner_page.goto(live_app.url(host, f"/manage/courses/{course.course.pk}/"))
    owner_page.locator("main").get_by_role("link", name="Certificate", exact=True).click()
    owner_page.wait_for_url(live_app.url(host, f"/manage/courses/{course.course.pk}/certificate/"))
    expect(owner_page.locator("[data-cert-status]")).to_have_text("Off")
    owner_page.get_by_label("Give students a certificate").check()
    owner_page.get_by_label("Signed by").fill("Olive Owner")
    owner_page.get_by_role("button", name="Save settings").click()
    expect(owner_page.get_by_text("Certificate settings saved.")).to_be_visible()
    expect(owner_page.locator("[data-cert-status]")).to_have_text("On")
    screenshot(owner_page, "certificate-settings")

    # --- the student reads the first lesson and passes the quiz: the course is complete --
    page = new_page()
    student_passes_the_quiz(page, live_app, course)

    # --- My courses lists the certificate; the PDF downloads ----------------------------
    page.goto(live_app.url(host, "/my/"))
    card = page.locator("[data-certificate-card]")
    expect(card).to_contain_text("Certificate earned")
    with page.expect_download() as info:
        card.get_by_role("link", name="Download PDF").click()
    target = SCREENSHOT_DIR.parent / "certificates" / "e2e-certificate.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    info.value.save_as(str(target))
    text = " ".join((PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text()).split())
    assert "Sam Student" in text and COURSE_TITLE in text and "Olive Owner" in text

    # --- its public page, and the PDF verified there ------------------------------------
    card.get_by_role("link", name="Public page").click()
    page.wait_for_url(re.compile(r"/certificates/[A-Za-z0-9_-]{22}/$"))
    expect(page.locator("[data-student]")).to_have_text("Sam Student")
    expect(page.locator("[data-course]")).to_have_text(COURSE_TITLE)
    expect(page.locator("[data-valid]")).to_be_visible()
    desktop_and_phone(page, "certificate-verify")

    page.get_by_label("Certificate PDF").set_input_files(str(target))
    page.get_by_role("button", name="Verify the PDF").click()
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "genuine")
    expect(verdict).to_contain_text("genuine certificate issued by this school")
    desktop_and_phone(page, "certificate-verified")
