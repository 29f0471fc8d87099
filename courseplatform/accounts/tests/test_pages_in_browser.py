"""The account pages in Chromium, in English and in Arabic: log in, sign up (also with
its errors shown), password reset (request, sent, choose a new password), the invalid
link pages (email confirmation, reset, sign-in link), the People page and the session
page. Each is axe-core clean (WCAG 2.2 A/AA), Arabic pages are right-to-left and
translated, and their screenshots are saved at desktop and phone width
(test-output/screenshots/ar-*.png)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, expect

from courseplatform.accounts.tests.browser import (
    LANGUAGES,
    check_page,
    log_in,
    new_school,
    open_context,
)
from tests.fixtures.browser import LiveApp

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("committed_db")]

HEADINGS = {
    "en": {
        "login": "Log in to Cedar Atelier",
        "signup": "Join Cedar Atelier",
        "reset": "Reset your password",
        "sent": "Check your inbox",
        "confirm": "Choose a new password",
        "verify-invalid": "This confirmation link is not valid",
        "login-link-invalid": "This sign-in link cannot be used",
        "people": "People",
    },
    "ar": {
        "login": "سجّل الدخول إلى Cedar Atelier",
        "signup": "انضم إلى Cedar Atelier",
        "reset": "أعد تعيين كلمة مرورك",
        "sent": "تحقّق من بريدك الوارد",
        "confirm": "اختر كلمة مرور جديدة",
        "verify-invalid": "رابط التأكيد هذا غير صالح",
        "login-link-invalid": "لا يمكن استخدام رابط تسجيل الدخول هذا",
        "people": "الأشخاص",
    },
}


@pytest.fixture
def school(live_app: LiveApp) -> Any:
    from courseplatform.accounts.models import User
    from courseplatform.tenancy.rls import school_context

    made = new_school("e2e-acct")
    with school_context(made.school):
        for email, name, role, verified in (
            ("amira@example.test", "Amira Saleh", "student", True),
            ("bruno@example.test", "Bruno Costa", "student", False),
            ("ines@example.test", "Inés Vidal", "instructor", True),
        ):
            person = User.objects.create_user(
                email, "x-unused-passphrase-1", school=made.school, full_name=name, role=role
            )
            if verified:
                User.objects.filter(pk=person.pk).update(email_verified_at=person.date_joined)
        amira = User.objects.get(school=made.school, email="amira@example.test")
        made.reset_path = (
            f"/accounts/password-reset/{urlsafe_base64_encode(force_bytes(amira.pk))}/"
            f"{default_token_generator.make_token(amira)}/"
        )
    return made


def test_account_pages_in_english_and_arabic(
    live_app: LiveApp, school: Any, chromium_browser: Browser
) -> None:
    for language in LANGUAGES:
        words = HEADINGS[language]
        context = open_context(chromium_browser, live_app, school.host, language)
        try:
            page = context.new_page()

            def visit(path: str, name: str) -> None:
                page.goto(live_app.url(school.host, path))
                expect(page.locator("h1")).to_have_text(words[name])
                check_page(page, name, language)

            visit("/accounts/login/", "login")
            page.locator('main form button[type="submit"]').click()  # empty: the error
            expect(page.locator(".alert-error, .field-error").first).to_be_visible()
            check_page(page, "login-error", language)

            visit("/accounts/signup/", "signup")
            page.locator('input[name="email"]').fill("not-an-address")
            page.locator('main form button[type="submit"]').click()
            expect(page.locator(".field-error").first).to_be_visible()
            check_page(page, "signup-errors", language)

            visit("/accounts/password-reset/", "reset")
            page.locator('input[name="email"]').fill("amira@example.test")
            page.locator('main form button[type="submit"]').click()
            expect(page.locator("h1")).to_have_text(words["sent"])
            check_page(page, "reset-sent", language)

            visit(school.reset_path, "confirm")
            visit("/accounts/verify/MTIzNDU2/invalid-token/", "verify-invalid")
            visit("/accounts/login-link/not-a-token/", "login-link-invalid")
            expect(page.locator("main")).to_contain_text(
                "This sign-in link is not valid."
                if language == "en"
                else "رابط تسجيل الدخول هذا غير صالح."
            )
        finally:
            context.close()


def test_people_and_session_pages_in_english_and_arabic(
    live_app: LiveApp, school: Any, chromium_browser: Browser
) -> None:
    for language in LANGUAGES:
        context = open_context(chromium_browser, live_app, school.host, language)
        try:
            page = context.new_page()
            log_in(page, live_app, school.host, school.owner.email, "/manage/students/")
            expect(page.locator("h1")).to_have_text(HEADINGS[language]["people"])
            rows = page.locator("tbody tr")
            expect(rows).to_have_count(4)
            role_of_ines = page.get_by_label(
                "Role of Inés Vidal" if language == "en" else "دور Inés Vidal"
            )
            expect(role_of_ines.locator("option:checked")).to_have_text(
                "Instructor" if language == "en" else "مدرّس"
            )
            check_page(page, "people", language)

            page.goto(live_app.url(school.host, "/accounts/session/"))
            expect(page.locator("body")).to_contain_text(
                "Signed in to Cedar Atelier as" if language == "en" else "تم تسجيل الدخول إلى"
            )
            check_page(page, "session", language)
        finally:
            context.close()
