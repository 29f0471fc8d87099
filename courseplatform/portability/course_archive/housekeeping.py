"""Removing what course archive jobs leave in storage once it is no longer needed:
built exports past ``expires_at``, and uploads of imports that never ran (an import
that ran deletes its upload itself)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from courseplatform.tenancy.models import School

from ..models import CourseExport, CourseImport, JobStatus

ABANDONED = "The import did not start in time; upload the archive again."


def purge_expired(*, school: School, now: datetime | None = None) -> int:
    """Delete the school's expired archives and abandoned uploads; return how many."""
    now = now or timezone.now()
    removed = 0
    for export in CourseExport.objects.filter(school=school, expires_at__lte=now).exclude(
        archive_key=""
    ):
        default_storage.delete(export.archive_key)
        CourseExport.objects.filter(pk=export.pk).update(archive_key="")
        removed += 1
    stale = now - timedelta(hours=settings.COURSE_ARCHIVE_KEEP_HOURS)
    for job in CourseImport.objects.filter(
        school=school, created_at__lte=stale, status=JobStatus.QUEUED
    ).exclude(archive_key=""):
        default_storage.delete(job.archive_key)
        CourseImport.objects.filter(pk=job.pk).update(
            archive_key="", status=JobStatus.FAILED, error=ABANDONED, finished_at=now
        )
        removed += 1
    return removed


def has_work(*, school: School, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        CourseExport.objects.filter(school=school, expires_at__lte=now)
        .exclude(archive_key="")
        .exists()
        or CourseImport.objects.filter(school=school, status=JobStatus.QUEUED)
        .exclude(archive_key="")
        .exists()
    )
