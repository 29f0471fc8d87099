"""Whole-school export and closure in Chromium against the real app.

The owner starts an export from Settings (codes encrypted with a passphrase), watches
the row move (htmx polls it: the job is advanced here, then run as the worker would),
downloads the zip; then closes the school (typed address and password), sees the
closure page, a visitor sees the closing page, and the owner cancels. Screenshots at
1280 and 375 px; at 375 px no page scrolls sideways.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_course_flow import PASSWORD, desktop_and_phone, log_in
from tests.fixtures.browser import VIEWPORT, LiveApp

pytestmark = pytest.mark.e2e

WAIT_MS = 20_000
PHRASE = "a long passphrase for the codes"


@pytest.fixture
def world(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.courses.tests.test_student_views import build_course
    from courseplatform.onboarding.services import create_school

    slug = f"e2e-exit-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Harbour Pottery School",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    build_course(created.school, created.owner, title="Wheel throwing")
    return SimpleNamespace(host=f"{slug}.", school=created.school, owner=created.owner)


@pytest.fixture
def browser_page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_owner_exports_then_closes_and_reopens_the_school(
    live_app: LiveApp, world: Any, browser_page: Page, chromium_browser: Browser, tmp_path: Path
) -> None:
    from courseplatform.portability.models import SchoolExport
    from courseplatform.portability.school_export import jobs
    from courseplatform.tenancy.rls import school_context

    page, host, school = browser_page, world.host, world.school
    log_in(page, live_app, host, world.owner.email, "/manage/")
    page.goto(live_app.url(host, "/manage/settings/"))
    page.locator("[data-settings-export]").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/export/"))
    expect(page.get_by_role("heading", name="Export the whole school")).to_be_visible()
    page.get_by_label("Passphrase for the codes").fill(PHRASE)
    page.get_by_label("Passphrase again").fill(PHRASE)
    desktop_and_phone(page, "school-export-form")
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/export/"))
    row = page.locator("[data-export]").first
    expect(row).to_contain_text("Waiting")

    # Half-way, as the worker reports it; the row polls itself and shows the bar move.
    with school_context(school):
        export = SchoolExport.objects.get(school=school)
        SchoolExport.objects.filter(pk=export.pk).update(
            status="running", progress=45, step="Course 1 of 1"
        )
    expect(row.locator("[data-percent]")).to_have_text("45")
    desktop_and_phone(page, "school-export-progress")
    with school_context(school):
        SchoolExport.objects.filter(pk=export.pk).update(status="queued", progress=0)
    assert jobs.run_export(school_id=school.pk, export_id=export.pk) == "ready"
    download = page.locator("[data-download]")
    expect(download).to_be_visible()
    desktop_and_phone(page, "school-export-ready")
    with page.expect_download() as info:
        download.click()
    archive = tmp_path / "school.zip"
    info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zf:
        assert json.loads(zf.read("school.json"))["school"]["slug"] == school.slug
        assert "access_codes.csv.enc" in zf.namelist()

    # Closing: the confirmation, then the owner's closure page.
    page.goto(live_app.url(host, "/manage/settings/"))
    page.locator("[data-settings-close]").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/close/"))
    page.get_by_label("Type the school's address to confirm").fill(school.slug)
    page.get_by_label("Your password").fill(PASSWORD)
    desktop_and_phone(page, "school-close-confirmation")
    page.get_by_role("button", name=f"Close {school.name}").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/close/"))
    expect(page.get_by_role("heading", name=f"{school.name} is closing")).to_be_visible()
    desktop_and_phone(page, "school-closing-owner")

    visitor_context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        visitor = visitor_context.new_page()
        answer = visitor.goto(live_app.url(host, "/"))
        assert answer is not None and answer.status == 503
        expect(visitor.get_by_role("heading", name=f"{school.name} is closing")).to_be_visible()
        desktop_and_phone(visitor, "school-closing-visitor")

        page.locator("[data-cancel-closure]").click()
        page.wait_for_url(live_app.url(host, "/manage/settings/"))
        answer = visitor.goto(live_app.url(host, "/"))
        assert answer is not None and answer.status == 200
    finally:
        visitor_context.close()
