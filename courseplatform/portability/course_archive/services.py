"""Requests for course archive jobs: start an export, accept an upload for import.

Both are keyword-only, take the school first and the acting user next, check who may
ask, write the job row and enqueue the work on commit (``tasks.py``). An uploaded
archive is checked completely (zip safety, manifest schema, plan limits) before it is
stored: a refused archive leaves nothing behind.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

from ..models import CourseExport, CourseImport
from .importer import ImportRefused, check_plan_limits
from .storagefiles import save_exact
from .tasks import enqueue_export, enqueue_import
from .zipcheck import ArchiveRejected, check_archive


def request_export(
    *,
    school: School,
    actor: User,
    course: Course,
    include_sources: bool = False,
    include_renditions: bool = False,
) -> CourseExport:
    """Queue an export of ``course`` (its managers only; audited)."""
    permissions.require_in_school(school, course)
    permissions.require_course_manager(school, actor, course)
    with transaction.atomic():
        export = CourseExport.objects.create(
            school=school,
            course=course,
            course_title=course.title,
            requested_by=actor,
            include_sources=bool(include_sources),
            include_renditions=bool(include_renditions),
        )
        record_audit(
            school=school,
            actor=actor,
            action="course.export_requested",
            target=course,
            data={"sources": export.include_sources, "renditions": export.include_renditions},
        )
        enqueue_export(school_id=school.pk, export_id=export.pk)
    return export


def _size_of(upload: Any) -> int:
    size = getattr(upload, "size", None)
    return int(size) if size is not None else 0


def request_import(*, school: School, actor: User, upload: Any) -> CourseImport:
    """Check the uploaded archive and queue its import. ``ImportRefused`` (or
    ``ArchiveRejected``) with the reasons when it cannot be imported; nothing stored."""
    permissions.require_school_manager(school, actor)
    size = _size_of(upload)
    limit = settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES
    if size <= 0:
        raise ImportRefused("The file is empty.")
    if size > limit:
        raise ImportRefused(
            f"The archive is {size / 1048576:.1f} MB; "
            f"at most {limit / 1048576:.0f} MB are accepted."
        )
    filename = (getattr(upload, "name", "") or "course.zip").replace("\\", "/").rsplit("/", 1)[-1]
    validate_single_line(filename, field="archive")
    upload.seek(0)
    checked = check_archive(upload)
    check_plan_limits(school=school, manifest=checked.manifest)
    job_uuid = uuid.uuid4()
    key = school_storage_key(school.pk, "course-archives", "imports", f"{job_uuid.hex}.zip")
    upload.seek(0)
    save_exact(key, upload)
    try:
        with transaction.atomic():
            job = CourseImport.objects.create(
                school=school,
                uuid=job_uuid,
                filename=filename[:255],
                archive_key=key,
                size=size,
                course_title=checked.manifest.course.title,
                requested_by=actor,
            )
            record_audit(
                school=school,
                actor=actor,
                action="course.import_requested",
                target=job,
                data={"filename": job.filename, "size": size, "title": job.course_title},
            )
            enqueue_import(school_id=school.pk, import_id=job.pk)
    except BaseException:
        default_storage.delete(key)
        raise
    return job


__all__ = ["ArchiveRejected", "ImportRefused", "request_export", "request_import"]
