"""Bulk student import in Chromium against the real app: the owner opens People →
Import students, uploads a CSV (60 new students, one existing student, a bad address,
a duplicate, an unknown course and a formula-looking name), reads the preview (counts,
problems, the formula flag, pagination), applies it and watches the progress bar move
as the worker applies batches (the batches run in this process, the page polls the
live app with htmx) until it says Done and offers the report. Screenshots of each step
at 1280 and 375 px; at 375 px no page scrolls sideways.
"""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_course_flow import PASSWORD, desktop_and_phone, log_in
from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import services
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-import-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Fern & Feather Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        drawing = services.create_course(school=school, actor=owner, title="Botanical Drawing")
        shading = services.create_course(school=school, actor=owner, title="Shading")
        sam = register_user(
            school=school, email=f"sam@{slug}.test", password=PASSWORD, full_name="Sam Student"
        )
    return SimpleNamespace(
        slug=slug, host=f"{slug}.", school=school, owner=owner, sam=sam, courses=(drawing, shading)
    )


def _csv(world: Any, path: Path) -> Path:
    drawing, shading = (course.slug for course in world.courses)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Name", "Email", "Course slugs"])
    writer.writerow(["Sam Student", world.sam.email, f"{drawing}; {shading}"])
    writer.writerow(['=HYPERLINK("http://evil.test")', f"fay@{world.slug}.test", drawing])
    writer.writerow(["No Address", "not-an-email", drawing])
    writer.writerow(["Sam Again", world.sam.email.upper(), ""])
    writer.writerow(["Uma Unknown", f"uma@{world.slug}.test", "no-such-course"])
    for index in range(60):
        writer.writerow([f"Student {index:02d}", f"s{index:02d}@{world.slug}.test", drawing])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_owner_uploads_previews_applies_and_downloads_the_report(
    live_app: LiveApp, world: Any, new_page: Any, tmp_path: Path, settings: Any
) -> None:
    from courseplatform.accounts.models import User
    from courseplatform.courses.models import Enrollment
    from courseplatform.roster.models import StudentImport
    from courseplatform.roster.tasks import run_import_batch
    from courseplatform.tenancy.rls import school_context

    host = world.host
    page = new_page()
    # The live app's first school page may take long on a loaded machine (imports under
    # coverage): wait for it generously once, the steps below keep the usual timeout.
    page.goto(live_app.url(host, "/accounts/login/"), timeout=120_000)
    log_in(page, live_app, host, world.owner.email, "/manage/")
    page.goto(live_app.url(host, "/manage/students/"))
    page.locator("[data-import-link]").click()
    page.wait_for_url(live_app.url(host, "/manage/students/import/"))
    expect(page.get_by_role("heading", name="Import students")).to_be_visible()

    # A file without a header row is refused with the reason; nothing is stored.
    bad = tmp_path / "no-header.csv"
    bad.write_text(f"Ann,ann@{world.slug}.test\n", encoding="utf-8")
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".field-error")).to_contain_text("looks like a student, not a header")
    desktop_and_phone(page, "import-upload-refused")

    page.locator('input[type="file"]').set_input_files(str(_csv(world, tmp_path / "cohort.csv")))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_url("**/manage/students/import/*/")
    expect(page.locator('[data-count="invite"]')).to_have_text("61")
    expect(page.locator('[data-count="enroll"]')).to_have_text("1")
    expect(page.locator('[data-count="invalid"]')).to_have_text("3")
    expect(page.locator("[data-formula-warning]")).to_be_visible()
    expect(page.locator('[data-row="3"] [data-issue="formula"]:visible')).to_be_visible()
    expect(page.locator('[data-row="4"] [data-issue="bad_email"]:visible')).to_be_visible()
    expect(page.locator('[data-row="5"] [data-issue="duplicate"]:visible')).to_be_visible()
    expect(page.locator('[data-row="6"] [data-issue="unknown_course"]:visible')).to_be_visible()
    expect(page.locator("[data-row]")).to_have_count(50)
    desktop_and_phone(page, "import-preview")
    page.get_by_role("link", name="Problems").click()
    expect(page.locator("[data-row]")).to_have_count(3)
    with school_context(world.school):  # nothing changed yet
        assert User.objects.filter(school=world.school).count() == 2
        imp = StudentImport.objects.get(school=world.school)

    page.locator("[data-apply]").click()
    progress = page.locator("[data-progress]")
    expect(progress).to_have_attribute("data-import-status", "applying")
    expect(progress.locator("[data-total]")).to_have_text("62")
    expect(progress.locator("[data-done]")).to_have_text("0")

    # The worker's first batch: the bar moves while the page polls.
    settings.ROSTER_IMPORT_BATCH_SIZE = 25
    assert run_import_batch(school_id=world.school.pk, import_id=imp.pk)["waiting"] == 37
    expect(progress.locator("[data-done]")).to_have_text("25")
    desktop_and_phone(page, "import-applying")
    for _ in range(10):
        if not run_import_batch(school_id=world.school.pk, import_id=imp.pk)["waiting"]:
            break
    expect(progress.locator("[data-finished]")).to_have_text("Done")
    expect(progress.locator("[data-done]")).to_have_text("62")
    expect(progress.locator("[data-failed]")).to_have_text("0")
    expect(page.locator("#import-status [data-import-status]")).to_have_text("Done")
    desktop_and_phone(page, "import-done")

    with page.expect_download() as download_info:
        progress.locator("[data-report]").click()
    report = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert len(lines) == 66
    assert lines[2][1] == '\'=HYPERLINK("http://evil.test")'  # made safe for spreadsheets
    with school_context(world.school):
        assert User.objects.filter(school=world.school).count() == 63
        assert Enrollment.objects.filter(school=world.school, student=world.sam).count() == 2

    progress.locator("[data-see-rows]").click()
    expect(page.locator('[data-row="7"] [data-result]:visible')).to_contain_text(
        "Account created and invited."
    )
    desktop_and_phone(page, "import-rows-applied")

    page.goto(live_app.url(host, "/manage/students/import/"))
    expect(page.locator("[data-imports] [data-import-status='done']")).to_have_count(1)
    desktop_and_phone(page, "import-list")
