"""Reads of course archive jobs, always scoped by school (a missing row and another
school's row are the same 404)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from courseplatform.courses.models import Course
from courseplatform.tenancy.models import School

from ..models import CourseExport, CourseImport, JobStatus


def course_exports(*, school: School, course: Course, limit: int = 10) -> list[CourseExport]:
    return list(CourseExport.objects.filter(school=school, course=course)[:limit])


def get_export(*, school: School, export_id: int) -> CourseExport:
    export = CourseExport.objects.filter(school=school, pk=export_id).first()
    if export is None:
        raise Http404("No such export.")
    return export


def downloadable_export(*, school: School, export_uuid: str) -> CourseExport:
    """A finished, unexpired export of the school, by the uuid its signed link names."""
    export = (
        CourseExport.objects.filter(school=school, uuid=export_uuid, status=JobStatus.READY)
        .exclude(archive_key="")
        .first()
    )
    if export is None or (export.expires_at and export.expires_at <= timezone.now()):
        raise Http404("This download link has expired.")
    return export


def recent_imports(*, school: School, limit: int = 10) -> list[CourseImport]:
    return list(CourseImport.objects.filter(school=school).select_related("course")[:limit])


def get_import(*, school: School, import_id: int) -> CourseImport:
    job = CourseImport.objects.filter(school=school, pk=import_id).select_related("course").first()
    if job is None:
        raise Http404("No such import.")
    return job
