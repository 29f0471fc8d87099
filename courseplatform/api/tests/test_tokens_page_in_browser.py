"""Settings → API in Chromium, in English and in Arabic: the token list (active, expired
and revoked tokens), a new token created and shown once, and a form error. axe-core
clean (WCAG 2.2 A/AA); Arabic right-to-left, translated, with screenshots at desktop
and phone width (test-output/screenshots/ar-api-tokens-*.png)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
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

PATH = "/manage/settings/api/"
WORDS = {
    "en": {"title": "API tokens", "revoked": "Revoked", "expired": "Expired", "copy": "Copy"},
    "ar": {"title": "رموز API", "revoked": "ملغى", "expired": "منتهي الصلاحية", "copy": "انسخ"},
}


@pytest.fixture
def school(live_app: LiveApp) -> Any:
    from courseplatform.api import services
    from courseplatform.api.models import ApiToken
    from courseplatform.tenancy.rls import school_context

    made = new_school("e2e-api")
    with school_context(made.school):
        for name in ("Shop sync", "Old export", "Spreadsheet"):
            created = services.create_token(
                school=made.school,
                actor=made.owner,
                name=name,
                scope=ApiToken.Scope.READ if name != "Shop sync" else ApiToken.Scope.WRITE,
                expires_at=timezone.now() + timedelta(days=30),
            )
            if name == "Old export":
                services.revoke_token(school=made.school, actor=made.owner, token=created.token)
            if name == "Spreadsheet":
                ApiToken.objects.filter(pk=created.token.pk).update(
                    expires_at=timezone.now() - timedelta(days=1)
                )
    return made


def test_api_tokens_page_in_english_and_arabic(
    live_app: LiveApp, school: Any, chromium_browser: Browser
) -> None:
    for language in LANGUAGES:
        words = WORDS[language]
        context = open_context(chromium_browser, live_app, school.host, language)
        try:
            page = context.new_page()
            log_in(page, live_app, school.host, school.owner.email, PATH)
            expect(page.locator("h1")).to_have_text(words["title"])
            expect(page.locator("[data-token]")).to_have_count(3 if language == "en" else 4)
            tokens = page.locator("[data-token-list]")
            expect(tokens).to_contain_text(words["revoked"])
            expect(tokens).to_contain_text(words["expired"])
            check_page(page, "api-tokens", language)

            page.locator('[data-new-token-form] button[type="submit"]').click()  # no name
            expect(page.locator(".field-error").first).to_be_visible()
            check_page(page, "api-tokens-error", language)

            page.locator('input[name="name"]').fill(f"CRM {language}")
            page.locator('input[name="scope"][value="write"]').check()
            page.locator('[data-new-token-form] button[type="submit"]').click()
            expect(page.locator("[data-new-token] h2")).to_contain_text(words["copy"])
            expect(page.locator("[data-token-value]")).to_have_value(re.compile(r"^cp_[0-9a-f]+_"))
            check_page(page, "api-tokens-new", language)
        finally:
            context.close()
