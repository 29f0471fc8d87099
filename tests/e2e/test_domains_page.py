"""The Domains page in Chromium: records with working copy buttons, the last check's
findings, desktop and phone screenshots, and no CSP violation (csp_guard)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-strong-pass-1234"


@pytest.fixture
def school_with_domains(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.domains import services
    from courseplatform.domains.models import CustomDomain
    from courseplatform.domains.verification import CheckResult, Finding, Outcome, State
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-dom-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Harbour Sailing School",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Hana Harbour",
        plan_code="enterprise",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        active = services.add_domain(
            school=school, actor=owner, hostname=f"learn.{slug}-sailing.test"
        )
        pending = services.add_domain(
            school=school, actor=owner, hostname=f"www.{slug}-sailing.test"
        )
        target = f"{slug}.localhost"
        services.apply_check(
            school=school,
            domain=active,
            result=CheckResult(
                Outcome.VERIFIED,
                [
                    Finding("CNAME", active.hostname, [target], State.FOUND, [target]),
                    Finding(
                        "TXT",
                        f"_courseplatform.{active.hostname}",
                        [active.verification_token],
                        State.FOUND,
                        [active.verification_token],
                    ),
                ],
                "",
            ),
        )
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
                        f"{pending.hostname} is a CNAME to parking.registrar.test, "
                        f"not to {target}.",
                    ),
                    Finding(
                        "TXT",
                        f"_courseplatform.{pending.hostname}",
                        [pending.verification_token],
                        State.MISSING,
                        [],
                        f"No TXT record at _courseplatform.{pending.hostname} yet.",
                    ),
                ],
                "CNAME elsewhere; TXT missing.",
            ),
        )
        assert CustomDomain.objects.filter(school=school).count() == 2

    def make_active_primary() -> None:
        # Only after signing in: once a domain is primary, the subdomain's sign-in page
        # moves to it (301), and that name resolves nowhere on this machine. /manage/
        # stays on the subdomain, so the signed-in owner keeps working there.
        with school_context(school):
            services.set_primary(school=school, actor=owner, domain_id=active.pk, primary=True)

    return slug, pending, make_active_primary


def test_domains_page_copy_buttons_and_screenshots(
    chromium_browser: Browser, live_app: LiveApp, school_with_domains: Any
) -> None:
    slug, pending, make_active_primary = school_with_domains
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(live_app.url(f"{slug}.", "/accounts/login/"))
        page.locator('input[name="email"]').fill(f"owner@{slug}.test")
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(live_app.url(f"{slug}.", "/manage/"))
        make_active_primary()
        page.get_by_role("link", name="Domains").first.click()
        page.wait_for_url(live_app.url(f"{slug}.", "/manage/domains/"))
        expect(page.get_by_role("heading", name="Domains", exact=True)).to_be_visible()
        card = page.locator(f"#domain-{pending.pk}")
        expect(card.locator('[data-finding="CNAME"][data-state="wrong"]')).to_contain_text(
            "parking.registrar.test"
        )
        copy = card.locator(f'button[data-copy="{pending.verification_token}"]')
        copy.click()
        expect(copy).to_have_text("Copied")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == pending.verification_token
        expect(copy).to_have_text("Copy", timeout=WAIT_MS)

        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        screenshot(page, "domains-desktop")
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        screenshot(page, "domains-phone")
        assert scroll_width <= inner_width + 1, "the Domains page scrolls sideways on a phone"
    finally:
        context.close()
