"""Settings → Webhooks in Chromium against the real app: the owner adds an endpoint
(a bad URL first: a clear error), reveals the secret, sends a test event, and reads the
delivery log and one delivery. Screenshots at desktop and phone width, no sideways
scrolling, and the strict CSP holds (csp_guard).

The live app runs in a subprocess that sees only committed rows: the school and its
log are created here through the services, under a fresh slug per run.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.onboarding.services import create_school
    from courseplatform.ops.events import Event
    from courseplatform.tenancy.rls import school_context
    from courseplatform.webhooks import services
    from courseplatform.webhooks.models import WebhookDelivery

    slug = f"e2e-hooks-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Brushwork Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        endpoint = services.create_endpoint(
            school=school,
            actor=owner,
            url="https://93.184.215.14/webhooks/courseplatform?source=school",
            description="CRM sync",
            event_types=["enrollment.created", "code.redeemed", "student.created"],
        )
        outcomes = [
            ("student.created", "succeeded", 200, 87, '{"ok":true}', ""),
            ("enrollment.created", "succeeded", 204, 112, "", ""),
            (
                "code.redeemed",
                "pending",
                500,
                2301,
                "Internal Server Error",
                "The endpoint answered 500.",
            ),
            (
                "enrollment.created",
                "failed",
                None,
                None,
                "",
                "No answer in time from 93.184.215.14.",
            ),
        ]
        for index, (kind, status, code, latency, body, error) in enumerate(outcomes):
            [delivery] = services.queue_event(
                Event(school_id=school.pk, type=kind, data={"id": 40 + index})
            )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=status,
                attempts=1 if status == "succeeded" else 3,
                response_status=code,
                latency_ms=latency,
                response_body=body,
                error=error,
                last_attempt_at=timezone.now(),
                next_attempt_at=timezone.now() + timedelta(minutes=4)
                if status == "pending"
                else None,
                request_headers={
                    "Content-Type": "application/json",
                    "webhook-id": delivery.event_id,
                    "webhook-timestamp": "1796515200",
                    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
                },
            )
    return SimpleNamespace(
        slug=slug, host=f"{slug}.", school=school, owner=owner, endpoint=endpoint
    )


def desktop_and_phone(page: Page, name: str) -> None:
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 375px wide"


def test_owner_manages_webhooks_and_reads_the_delivery_log(
    live_app: LiveApp, school: Any, chromium_browser: Browser
) -> None:
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_app.url(school.host, "/accounts/login/?next=/manage/settings/"))
        page.locator('input[name="email"]').fill(school.owner.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(live_app.url(school.host, "/manage/settings/"))
        page.locator("[data-settings-webhooks]").click()
        page.wait_for_url(live_app.url(school.host, "/manage/settings/webhooks/"))
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        expect(page.locator("[data-endpoint]")).to_have_count(1)
        desktop_and_phone(page, "webhooks-list")

        # A metadata address: refused with a clear message, nothing added.
        page.get_by_role("link", name="Add endpoint").first.click()
        page.get_by_label("Endpoint URL").fill("http://169.254.169.254/latest/meta-data/")
        page.locator('input[name="event_types"][value="enrollment.created"]').check()
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator(".field-error")).to_contain_text("link-local address")
        desktop_and_phone(page, "webhooks-add-refused")
        page.get_by_label("Endpoint URL").fill("https://93.184.215.14/second")
        page.get_by_role("button", name="Add endpoint").click()
        page.wait_for_url(re.compile(r"/manage/settings/webhooks/\d+/$"))
        expect(page.get_by_text("Endpoint added")).to_be_visible()
        page.get_by_text("Reveal secret").click()
        expect(page.locator("[data-secret]")).to_contain_text("whsec_")
        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("Test event queued")).to_be_visible()
        expect(page.locator("[data-delivery]")).to_have_count(1)

        page.goto(live_app.url(school.host, f"/manage/settings/webhooks/{school.endpoint.pk}/"))
        expect(page.locator("[data-delivery]")).to_have_count(4)
        expect(page.locator("#deliveries")).to_contain_text("2301 ms")
        desktop_and_phone(page, "webhooks-endpoint-log")

        page.locator("[data-delivery] a", has_text="code.redeemed").click()
        expect(page.locator("[data-response-status]")).to_have_text("500")
        expect(page.locator("[data-response-body]")).to_contain_text("Internal Server Error")
        expect(page.locator("[data-request-headers]")).to_contain_text("webhook-signature")
        desktop_and_phone(page, "webhooks-delivery")
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_text("queued again")).to_be_visible()
        expect(page.locator("[data-delivery]")).to_have_count(5)
    finally:
        context.close()
