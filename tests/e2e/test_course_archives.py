"""Course export and import in Chromium against the real app.

The owner opens a course (made through the services: cover, drip sections, text,
attachments, a quiz, certificate settings), asks for an export from the course's page,
watches the row wait and then (the job run here, as the worker would) turn into a
download, downloads the .zip, uploads a junk file to the import page (refused with its
reason), then the real archive, and follows the import to "Open the course".
Screenshots at 1280 and 375 px; at 375 px no page scrolls sideways.
"""

from __future__ import annotations

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


@pytest.fixture
def world(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.onboarding.services import create_school
    from courseplatform.portability.tests.conftest import build_rich_course

    slug = f"e2e-archive-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Riverbank Art School",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    rich = build_rich_course(created.school, created.owner)
    return SimpleNamespace(
        host=f"{slug}.", school=created.school, owner=created.owner, course=rich.course
    )


@pytest.fixture
def owner_page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_owner_exports_and_imports_a_course(
    live_app: LiveApp, world: Any, owner_page: Page, tmp_path: Path
) -> None:
    from courseplatform.portability.course_archive import jobs
    from courseplatform.portability.models import CourseExport, CourseImport
    from courseplatform.tenancy.rls import school_context

    page, host, course = owner_page, world.host, world.course
    log_in(page, live_app, host, world.owner.email, "/manage/")

    page.goto(live_app.url(host, f"/manage/courses/{course.pk}/"))
    page.locator("main").get_by_role("link", name="Export", exact=True).click()
    page.wait_for_url(live_app.url(host, f"/manage/courses/{course.pk}/export/"))
    expect(page.get_by_role("heading", name=f"Export “{course.title}”")).to_be_visible()
    desktop_and_phone(page, "course-export-empty")

    page.get_by_label("Include the streaming versions (HLS renditions)").check()
    page.get_by_role("button", name="Build archive").click()
    row = page.locator("[data-export]").first
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("Waiting")
    desktop_and_phone(page, "course-export-waiting")

    with school_context(world.school):
        export = CourseExport.objects.get(course=course)
    assert jobs.run_export(school_id=world.school.pk, export_id=export.pk) == "ready"
    # htmx polls the row every 2 s: it turns into a download without a reload.
    download_link = page.locator("[data-download]")
    expect(download_link).to_be_visible()
    desktop_and_phone(page, "course-export-ready")
    with page.expect_download() as info:
        download_link.click()
    archive = tmp_path / "course.zip"
    info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zf:
        assert "manifest.json" in zf.namelist()

    page.goto(live_app.url(host, "/manage/courses/"))
    page.locator("main").get_by_role("link", name="Import a course").click()
    page.wait_for_url(live_app.url(host, "/manage/courses/import/"))
    desktop_and_phone(page, "course-import-empty")

    junk = tmp_path / "holiday-photos.zip"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a course" * 100)
    page.get_by_label("Course archive (.zip)").set_input_files(str(junk))
    page.get_by_role("button", name="Check and import").click()
    expect(page.locator(".field-error")).to_contain_text("This file is not a zip archive")
    desktop_and_phone(page, "course-import-refused")

    page.get_by_label("Course archive (.zip)").set_input_files(str(archive))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(live_app.url(host, "/manage/courses/import/"))
    row = page.locator("[data-import]").first
    expect(row).to_contain_text("Waiting")
    desktop_and_phone(page, "course-import-waiting")

    with school_context(world.school):
        job = CourseImport.objects.get(school=world.school)
    assert jobs.run_import(school_id=world.school.pk, import_id=job.pk) == "ready"
    expect(page.locator("[data-open-course]")).to_be_visible()
    desktop_and_phone(page, "course-import-done")
    page.locator("[data-open-course]").click()
    expect(page.get_by_role("heading", name=course.title, level=1)).to_be_visible()
    expect(page.locator("[data-status]").first).to_have_text("Draft")
