"""Settings → Webhooks in Chromium, in English and in Arabic: the endpoint list, the add
form (with a refused address), an endpoint with its delivery log, and one delivery.
axe-core clean (WCAG 2.2 A/AA); Arabic right-to-left and translated, with screenshots
at desktop and phone width (test-output/screenshots/ar-webhooks-*.png)."""

from __future__ import annotations

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

BASE = "/manage/settings/webhooks/"
WORDS = {
    "en": {
        "title": "Webhooks",
        "failures": "2 failed deliveries in a row",
        "refused": "is a link-local address",
        "log": "Delivery log",
        "attempts": "3 attempts",
        "meaning": "A student redeemed an access code.",
    },
    "ar": {
        "title": "خطافات الويب",
        "failures": "عمليتا تسليم فاشلتان متتاليتان (2)",
        "refused": "عنوان محلي للرابط",
        "log": "سجل التسليم",
        "attempts": "3 محاولات",
        "meaning": "استخدم طالب رمز وصول.",
    },
}


@pytest.fixture
def school(live_app: LiveApp) -> Any:
    from courseplatform.ops.events import Event
    from courseplatform.tenancy.rls import school_context
    from courseplatform.webhooks import services
    from courseplatform.webhooks.models import WebhookDelivery, WebhookEndpoint

    made = new_school("e2e-hooks-i18n")
    with school_context(made.school):
        endpoint = services.create_endpoint(
            school=made.school,
            actor=made.owner,
            url="https://93.184.215.14/webhooks/courseplatform",
            description="CRM sync",
            event_types=["enrollment.created", "code.redeemed", "student.created"],
        )
        failing = services.create_endpoint(
            school=made.school,
            actor=made.owner,
            url="https://93.184.215.15/hooks",
            event_types=["course.published"],
        )
        WebhookEndpoint.objects.filter(pk=failing.pk).update(consecutive_failures=2)
        for index, (kind, status, code, latency, error) in enumerate(
            [
                ("student.created", "succeeded", 200, 87, ""),
                ("code.redeemed", "pending", 500, 2301, "The endpoint answered 500."),
            ]
        ):
            [delivery] = services.queue_event(
                Event(school_id=made.school.pk, type=kind, data={"id": 40 + index})
            )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=status,
                attempts=1 if status == "succeeded" else 3,
                response_status=code,
                latency_ms=latency,
                response_body="Internal Server Error" if code == 500 else '{"ok":true}',
                error=error,
                last_attempt_at=timezone.now(),
                next_attempt_at=timezone.now() + timedelta(minutes=4)
                if status == "pending"
                else None,
                request_headers={"Content-Type": "application/json", "webhook-id": "evt_1"},
            )
            if kind == "code.redeemed":
                made.delivery_path = f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/"
    made.endpoint_path = f"{BASE}{endpoint.pk}/"
    return made


def test_webhook_pages_in_english_and_arabic(
    live_app: LiveApp, school: Any, chromium_browser: Browser
) -> None:
    for language in LANGUAGES:
        words = WORDS[language]
        context = open_context(chromium_browser, live_app, school.host, language)
        try:
            page = context.new_page()
            log_in(page, live_app, school.host, school.owner.email, BASE)
            expect(page.locator("h1")).to_have_text(words["title"])
            expect(page.locator("[data-endpoint]")).to_have_count(2)
            expect(page.locator("#endpoints")).to_contain_text(words["failures"])
            check_page(page, "webhooks-list", language)

            page.goto(live_app.url(school.host, f"{BASE}new/"))
            page.locator('input[name="url"]').fill("http://169.254.169.254/latest/meta-data/")
            page.locator('input[name="event_types"][value="code.redeemed"]').check()
            page.locator('[data-endpoint-form] button[type="submit"]').click()
            expect(page.locator(".field-error")).to_contain_text(words["refused"])
            check_page(page, "webhooks-add-refused", language)

            page.goto(live_app.url(school.host, school.endpoint_path))
            expect(page.locator("#log-title")).to_have_text(words["log"])
            expect(page.locator("[data-delivery]")).to_have_count(2)
            expect(page.locator("#events-title ~ ul")).to_contain_text(words["meaning"])
            page.locator("[data-secret] summary").click()
            check_page(page, "webhooks-endpoint", language)

            page.goto(live_app.url(school.host, school.delivery_path))
            expect(page.locator("[data-response-status]")).to_have_text("500")
            expect(page.locator("main")).to_contain_text(words["attempts"])
            check_page(page, "webhooks-delivery", language)
        finally:
            context.close()
