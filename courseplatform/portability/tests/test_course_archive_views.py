"""The course archive pages: buttons on the course pages, export and import through the
forms, progress fragments, bad uploads, and who may see what (two schools, roles)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from courseplatform.portability.course_archive import jobs
from courseplatform.portability.models import CourseExport, CourseImport, JobStatus
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of

from .conftest import Rich
from .support import export_bytes, upload_of

pytestmark = pytest.mark.django_db


def _client(school: Any, user: Any) -> Client:
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(user)
    return client


def test_buttons_on_the_course_pages(rich_a: Rich) -> None:
    client = rich_a.client()
    listing = client.get("/manage/courses/").content.decode()
    assert 'href="/manage/courses/import/"' in listing and "Import a course" in listing
    editor = client.get(f"/manage/courses/{rich_a.course.pk}/").content.decode()
    assert f'href="/manage/courses/{rich_a.course.pk}/export/"' in editor


def test_export_through_the_page(rich_a: Rich) -> None:
    client = rich_a.client()
    url = f"/manage/courses/{rich_a.course.pk}/export/"
    page = client.get(url)
    assert page.status_code == 200 and b"No archive yet" in page.content
    # No option ticked is a valid choice too (the course without video files).
    assert client.post(url, {}).status_code == 302
    response = client.post(url, {"include_renditions": "on"})
    assert response.status_code == 302
    with school_context(rich_a.school):
        plain, export = CourseExport.objects.filter(course=rich_a.course).order_by("id")
    assert not plain.include_renditions and not plain.include_sources
    assert export.include_renditions and not export.include_sources
    row = client.get(f"/manage/courses/archives/exports/{export.pk}/").content.decode()
    assert "Waiting" in row and 'hx-trigger="every 2s"' in row
    jobs.run_export(school_id=rich_a.school.pk, export_id=export.pk)
    row = client.get(f"/manage/courses/archives/exports/{export.pk}/").content.decode()
    assert "Download .zip" in row and "hx-trigger" not in row
    assert "/manage/courses/archives/download/" in client.get(url).content.decode()


def test_import_through_the_page(rich_a: Rich) -> None:
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    client = rich_a.client()
    response = client.post("/manage/courses/import/", {"archive": upload_of(data, "water.zip")})
    assert response.status_code == 302
    with school_context(rich_a.school):
        job = CourseImport.objects.get()
    page = client.get("/manage/courses/import/").content.decode()
    assert "water.zip" in page and "Waiting" in page
    jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk)
    row = client.get(f"/manage/courses/archives/imports/{job.pk}/").content.decode()
    assert "Imported" in row and "Open “Watercolour Basics”" in row


def test_bad_upload_shows_the_reason_and_stores_nothing(rich_a: Rich) -> None:
    client = rich_a.client()
    response = client.post(
        "/manage/courses/import/", {"archive": upload_of(b"GIF89a not a zip", "x.zip")}
    )
    assert response.status_code == 400
    assert "This file is not a zip archive" in response.content.decode()
    response = client.post("/manage/courses/import/", {})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    with school_context(rich_a.school):
        assert not CourseImport.objects.exists()


def test_other_school_cannot_see_or_touch_the_jobs(rich_a: Rich, school_b: Any) -> None:
    with school_context(rich_a.school):
        from courseplatform.portability.course_archive import services

        export = services.request_export(
            school=rich_a.school, actor=rich_a.owner, course=rich_a.course
        )
    jobs.run_export(school_id=rich_a.school.pk, export_id=export.pk)
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        job = services.request_import(
            school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
        )
    b = _client(school_b.school, school_b.owner)
    assert b.get(f"/manage/courses/{rich_a.course.pk}/export/").status_code == 404
    assert b.post(f"/manage/courses/{rich_a.course.pk}/export/", {}).status_code == 404
    assert b.get(f"/manage/courses/archives/exports/{export.pk}/").status_code == 404
    assert b.get(f"/manage/courses/archives/imports/{job.pk}/").status_code == 404
    page = b.get("/manage/courses/import/").content.decode()
    assert "Watercolour" not in page
    # Rows of A are invisible to B's context even without the school filter (RLS).
    with school_context(school_b.school):
        assert not CourseExport.objects.exists() and not CourseImport.objects.exists()
    with school_context(rich_a.school):
        assert CourseExport.objects.filter(pk=export.pk, status=JobStatus.READY).exists()


def test_roles(rich_a: Rich, make_user: Any) -> None:
    student = make_user(rich_a.school, "stu@alpha.test", role="student")
    teacher = make_user(rich_a.school, "teach@alpha.test", role="instructor")
    url = f"/manage/courses/{rich_a.course.pk}/export/"
    assert rich_a.client(student).get(url).status_code in (302, 403)
    # An instructor who does not teach this course (the course pages answer the same).
    assert rich_a.client(teacher).get(url).status_code == 403
    # Instructors may import (the course is theirs), but not the certificate settings.
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    client = rich_a.client(teacher)
    assert client.post("/manage/courses/import/", {"archive": upload_of(data)}).status_code == 302
    with school_context(rich_a.school):
        job = CourseImport.objects.get()
    jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk)
    with school_context(rich_a.school):
        job.refresh_from_db()
    assert job.status == JobStatus.READY, job.error
    assert any("only the school owner manages certificates" in note for note in job.notes)
    assert rich_a.client(student).get("/manage/courses/import/").status_code in (302, 403)


def test_upload_over_the_cap_is_not_read_and_csrf_still_holds(rich_a: Rich, settings: Any) -> None:
    settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES = 64 * 1024
    client = rich_a.client()
    big = upload_of(b"PK\x03\x04" + b"\0" * (200 * 1024), "big.zip")
    response = client.post("/manage/courses/import/", {"archive": big})
    assert response.status_code == 400
    assert "larger than the limit" in response.content.decode()
    with school_context(rich_a.school):
        assert not CourseImport.objects.exists()
    strict = Client(HTTP_HOST=rich_a.host, enforce_csrf_checks=True)
    with school_context(rich_a.school):
        strict.force_login(rich_a.owner)
    response = strict.post("/manage/courses/import/", {"archive": upload_of(b"x", "a.zip")})
    assert response.status_code == 403
