"""The Domains page in automated mode (Cloudflare for SaaS), in Chromium.

The page is rendered by the app in this process (the Cloudflare fake lives here, and
the live app subprocess has no Cloudflare settings), then shown in Chromium on the
live app's origin so its stylesheet and scripts load: screenshots at 1280 px and
375 px, and at 375 px nothing may scroll sideways (the records are long names).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page

from courseplatform.domains import services
from courseplatform.tenancy.rls import school_context
from tests.fixtures.browser import LiveApp, screenshot
from tests.fixtures.cloudflare import FakeCloudflare

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

PHONE = {"width": 375, "height": 812}
HOST = "learn.alpha-brand.test"


def test_domains_page_shows_cloudflares_records_on_desktop_and_phone(
    page: Page, live_app: LiveApp, fake_cloudflare: FakeCloudflare, make_school: Any
) -> None:
    created = make_school("alpha", plan="premium")
    with school_context(created.school):
        services.add_domain(school=created.school, actor=created.owner, hostname=HOST)
    client = Client(HTTP_HOST="alpha.localhost")
    with school_context(created.school):
        client.force_login(created.owner)
    html = client.get("/manage/domains/").content.decode()

    page.goto(live_app.url(path="/healthz"))  # the origin for /static/ links
    page.set_content(html, wait_until="load")
    records = page.locator("[data-cloudflare-record]")
    assert records.count() == 2
    assert page.get_by_text(f"_cf-custom-hostname.{HOST}").is_visible()
    assert page.get_by_text("Hostname pending").is_visible()
    screenshot(page, "domains-automated-desktop")

    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, "domains-automated-phone")
