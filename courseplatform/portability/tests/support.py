"""Helpers shared by the course archive tests: export to bytes, import from bytes."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from courseplatform.courses.models import Course
from courseplatform.portability.course_archive import jobs, services
from courseplatform.portability.models import CourseExport, CourseImport
from courseplatform.tenancy.rls import school_context


def export_bytes(school: Any, actor: Any, course: Course, **options: Any) -> bytes:
    from django.core.files.storage import default_storage

    with school_context(school):
        job = services.request_export(school=school, actor=actor, course=course, **options)
    assert jobs.run_export(school_id=school.pk, export_id=job.pk) == "ready"
    with school_context(school):
        job = CourseExport.objects.get(pk=job.pk)
    with default_storage.open(job.archive_key, "rb") as fh:
        return bytes(fh.read())


def upload_of(data: bytes, name: str = "course.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def import_bytes(school: Any, actor: Any, data: bytes) -> CourseImport:
    """Upload (checked in the request) and run the job; the finished job row."""
    with school_context(school):
        job = services.request_import(school=school, actor=actor, upload=upload_of(data))
    jobs.run_import(school_id=school.pk, import_id=job.pk)
    with school_context(school):
        return CourseImport.objects.select_related("course").get(pk=job.pk)


def as_stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
