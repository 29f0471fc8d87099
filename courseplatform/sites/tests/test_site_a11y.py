"""The school site and its management pages in Chromium: axe-core (WCAG 2.0-2.2 A/AA)
in English and Arabic, right-to-left markup, and Arabic screenshots at desktop and phone
widths (test-output/screenshots/ar-site-*.png).

Visitor pages: the home page (Classic starter, every new school's), the other starters
(Bold, Minimal, Blank) published as /p/<slug>/, and a page made of the builder's blocks
(/p/about/). Management pages (as the owner): site home, pages list (with the menu
order), page settings and revisions, theme editor, delete confirmation and the builder
(GrapesJS's own panels included). One live_app session, a few pages per browser
context, to keep the suite fast.

Setup data is committed (the app runs in another process): unique slugs per run.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.onboarding.services import create_school
from courseplatform.sites import services as site_services
from courseplatform.sites.models import Page as SitePage
from courseplatform.tenancy.rls import school_context
from tests.fixtures.a11y import (
    PHONE,
    assert_accessible,
    language_cookie,
)
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"

# What the builder's blocks produce (frontend/src/js/builder.js), as an author saves it.
BUILDER_HTML = """
<section class="cp-hero"><div class="cp-container">
  <p class="cp-eyebrow">Welcome</p>
  <h1 class="cp-title">Learn something new today</h1>
  <p class="cp-lead">Describe what students will get from your school.</p>
  <div class="cp-actions"><a class="cp-btn cp-btn--primary" href="/courses/">Browse courses</a>
  <a class="cp-btn cp-btn--secondary" href="/redeem/">Redeem a code</a></div>
</div></section>
<section class="cp-section"><div class="cp-container cp-columns cp-columns--2">
  <div class="cp-column cp-prose"><h2 class="cp-subheading">First column</h2>
  <p>Text for the first column.</p><ul><li>One point</li><li>Another point</li></ul></div>
  <div class="cp-column cp-prose"><h2 class="cp-subheading">Second column</h2>
  <p>Text for the second column.</p></div>
</div></section>
<section class="cp-section"><div class="cp-container">
  <h2 class="cp-heading cp-center">Our courses</h2><div data-cp-block="catalogue"></div>
</div></section>
<section class="cp-section cp-section--tint"><div class="cp-container">
  <div class="cp-section-head"><h2 class="cp-heading">What students say</h2></div>
  <div class="cp-grid cp-grid--3">
    <blockquote class="cp-card cp-quote"><p>Clear and practical.</p>
    <footer><strong>Student name</strong>Their role</footer></blockquote>
  </div>
</div></section>
<section class="cp-section"><div class="cp-container cp-container--narrow">
  <h2 class="cp-heading cp-center">Frequently asked questions</h2>
  <div class="cp-faq"><details><summary>How do I get access?</summary>
  <p>Redeem the access code you received.</p></details></div>
</div></section>
<section class="cp-section"><div class="cp-container cp-container--narrow">
  <div data-cp-block="redeem"></div>
</div></section>
<section class="cp-section"><div class="cp-container"><div class="cp-cta">
  <div><h2 class="cp-heading">Ready to start?</h2><p>Redeem your access code today.</p></div>
  <div class="cp-actions"><a class="cp-btn cp-btn--light" href="/redeem/">Redeem a code</a></div>
</div></div></section>
"""


def _school() -> tuple[Any, User, dict[str, SitePage]]:
    slug = f"a11y-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Brushwork Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    pages: dict[str, SitePage] = {}
    with school_context(school):
        course = course_services.create_course(
            school=school,
            actor=owner,
            title="Watercolour Basics",
            subtitle="Paint loose, luminous landscapes",
        )
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="Start"
        )
        course_services.add_lesson(school=school, actor=owner, section=section, title="Hello")
        course_services.set_course_status(school=school, actor=owner, course=course, publish=True)
        for starter in ("bold", "minimal", "blank"):
            page = site_services.create_page(
                school=school, actor=owner, title=starter.title(), starter=starter, slug=starter
            )
            site_services.publish_page(school=school, actor=owner, page=page)
            pages[starter] = page
        about = site_services.create_page(school=school, actor=owner, title="About", slug="about")
        site_services.save_draft(
            school=school, actor=owner, page=about, html=BUILDER_HTML, css="", project={}
        )
        site_services.publish_page(school=school, actor=owner, page=about)
        pages["about"] = about
        pages["home"] = SitePage.objects.get(school=school, is_home=True)
    return school, owner, pages


def _set_language(owner: User, language: str) -> None:
    # save(), not update(): the signed-in user is cached and a save retires that copy.
    with school_context(owner.school):
        owner.language = language
        owner.save(update_fields=["language"])


def _check(page: Page, language: str, name: str) -> None:
    """axe-core clean; in Arabic also right-to-left, no sideways scroll on a phone, and
    screenshots at both widths."""
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    assert_accessible(page, f"{language} {name}")
    if language != "ar":
        return
    screenshot(page, f"ar-{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name}: the phone layout scrolls sideways by {overflow}px"
    screenshot(page, f"ar-{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]


def _context(browser: Browser, url: str, language: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    if language == "ar":
        context.add_cookies([language_cookie(url, "ar")])  # type: ignore[list-item]
    return context


def _log_in(page: Page, live_app: LiveApp, slug: str, email: str) -> None:
    page.goto(live_app.url(f"{slug}.", "/accounts/login/"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(live_app.url(f"{slug}.", "/manage/"))


def test_school_site_pages_are_accessible_in_english_and_arabic(
    committed_db: None, live_app: LiveApp, chromium_browser: Browser
) -> None:
    school, _owner, _pages = _school()
    base = live_app.url(f"{school.slug}.", "/")
    visitor_pages = (
        ("site-home-classic", "/"),
        ("site-starter-bold", "/p/bold/"),
        ("site-starter-minimal", "/p/minimal/"),
        ("site-starter-blank", "/p/blank/"),
        ("site-builder-page", "/p/about/"),
    )
    for language in ("en", "ar"):
        context = _context(chromium_browser, base, language)
        try:
            page = context.new_page()
            for name, path in visitor_pages:
                page.goto(live_app.url(f"{school.slug}.", path))
                _check(page, language, name)
            if language == "ar":
                # Our texts in the blocks are Arabic; the arrows point the reading way.
                page.goto(live_app.url(f"{school.slug}.", "/p/about/"))
                expect(page.locator(".cp-course-card__cta").first).to_contain_text("عرض الدورة")
                expect(page.locator(".cp-redeem__title")).to_have_text("هل لديك رمز وصول؟")
                arrow = page.locator(".cp-course-card__cta .cp-arrow").first
                assert "matrix(-1" in arrow.evaluate("(el) => getComputedStyle(el).transform")
                # Author text starts at the right edge in RTL (text-align: start).
                lead = page.locator(".cp-prose p").first
                assert lead.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
        finally:
            context.close()


def test_site_management_pages_are_accessible_in_english_and_arabic(
    committed_db: None, live_app: LiveApp, chromium_browser: Browser
) -> None:
    school, owner, pages = _school()
    about, home = pages["about"], pages["home"]
    base = live_app.url(f"{school.slug}.", "/")
    manage_pages = (
        ("site-manage-home", "/manage/site/"),
        ("site-manage-pages", "/manage/site/pages/"),
        ("site-manage-page-detail", f"/manage/site/pages/{about.pk}/"),
        ("site-manage-home-detail", f"/manage/site/pages/{home.pk}/"),
        ("site-manage-theme", "/manage/site/theme/"),
        ("site-manage-delete", f"/manage/site/pages/{about.pk}/delete/"),
    )
    context = _context(chromium_browser, base, "en")
    try:
        page = context.new_page()
        _set_language(owner, "en")
        _log_in(page, live_app, school.slug, owner.email)
        for language in ("en", "ar"):
            _set_language(owner, language)  # the account's language wins (accounts/language.py)
            for name, path in manage_pages:
                page.goto(live_app.url(f"{school.slug}.", path))
                _check(page, language, name)
            # The builder, GrapesJS's panels included (builder.js names its canvas frame
            # and makes its scrolling panel reachable by keyboard).
            page.goto(live_app.url(f"{school.slug}.", f"/manage/site/pages/{about.pk}/builder/"))
            expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
            direction = "rtl" if language == "ar" else "ltr"
            expect(page.locator("html")).to_have_attribute("dir", direction)
            assert_accessible(page, f"{language} builder")
            canvas_dir = page.evaluate(
                "() => window.cpBuilder.editor.Canvas.getDocument().documentElement.dir"
            )
            assert canvas_dir == ("rtl" if language == "ar" else "ltr")
            if language == "ar":
                expect(page.locator("[data-publish]")).to_have_text("نشر")
                expect(page.locator('.gjs-block[title="واجهة رئيسية"]')).to_have_count(1)
                screenshot(page, "ar-site-manage-builder-desktop")
                page.set_viewport_size(PHONE)  # type: ignore[arg-type]
                screenshot(page, "ar-site-manage-builder-phone")
                page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    finally:
        context.close()
