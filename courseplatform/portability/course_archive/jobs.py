"""The work of the export and import jobs (``tasks.py`` runs them in the worker; tests
call them directly). Progress goes to the job's row as it happens (autocommit, outside
the import's transaction), so the management pages can poll it."""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.storage import school_storage_key

from ..models import CourseExport, CourseImport, JobStatus
from .export import write_course_archive
from .importer import ImportRefused, import_course
from .storagefiles import CHUNK, save_exact
from .zipcheck import ArchiveRejected, check_archive

logger = logging.getLogger(__name__)

ERROR_MAX = 2000


def _reporter(
    model: type[CourseExport] | type[CourseImport], pk: int
) -> Callable[[int, int], None]:
    """progress(done, total) → the row's percent, written only when it changes."""
    last = [-1]

    def report(done: int, total: int) -> None:
        percent = min(99, int(done * 100 / total)) if total else 0
        if percent != last[0]:
            last[0] = percent
            model.objects.filter(pk=pk).update(progress=percent)

    return report


def export_key(school: School, export: CourseExport) -> str:
    return school_storage_key(school.pk, "course-archives", "exports", f"{export.uuid.hex}.zip")


def run_export(*, school_id: int, export_id: int) -> str:
    with school_context(school_id):
        school = School.objects.get(pk=school_id)
        claimed = CourseExport.objects.filter(
            school=school, pk=export_id, status=JobStatus.QUEUED
        ).update(status=JobStatus.RUNNING, progress=0)
        export = (
            CourseExport.objects.filter(school=school, pk=export_id)
            .select_related("course")
            .first()
        )
        if not claimed or export is None:
            return "skipped"
        if export.course is None:
            _fail(export, "The course was deleted before its archive was built.")
            return "failed"
        key = export_key(school, export)
        try:
            with tempfile.TemporaryFile(dir=settings.VIDEO_WORK_DIR or None) as tmp:
                with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                    write_course_archive(
                        school=school,
                        course=export.course,
                        zf=zf,
                        include_sources=export.include_sources,
                        include_renditions=export.include_renditions,
                        progress=_reporter(CourseExport, export.pk),
                    )
                size = tmp.tell()
                tmp.seek(0)
                save_exact(key, tmp)
        except Exception as exc:
            logger.exception("course export %s failed", export.pk)
            default_storage.delete(key)
            _fail(export, f"The archive could not be built ({type(exc).__name__}). Try again.")
            return "failed"
        now = timezone.now()
        CourseExport.objects.filter(pk=export.pk).update(
            status=JobStatus.READY,
            progress=100,
            archive_key=key,
            size=size,
            finished_at=now,
            expires_at=now + timedelta(hours=settings.COURSE_ARCHIVE_KEEP_HOURS),
        )
    return "ready"


def _fail(job: CourseExport | CourseImport, message: str) -> None:
    type(job).objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error=message[:ERROR_MAX], finished_at=timezone.now()
    )


def _download(key: str, out: tempfile._TemporaryFileWrapper) -> None:  # type: ignore[type-arg]
    with default_storage.open(key, "rb") as source:
        while chunk := source.read(CHUNK):
            out.write(chunk)
    out.seek(0)


def run_import(*, school_id: int, import_id: int) -> str:
    with school_context(school_id):
        school = School.objects.select_related("plan").get(pk=school_id)
        claimed = CourseImport.objects.filter(
            school=school, pk=import_id, status=JobStatus.QUEUED
        ).update(status=JobStatus.RUNNING, progress=0)
        job = CourseImport.objects.filter(school=school, pk=import_id).first()
        if not claimed or job is None:
            return "skipped"
        actor = (
            User.objects.filter(school=school, pk=job.requested_by_id).first()
            if job.requested_by_id
            else None
        )
        try:
            if actor is None:
                raise ImportRefused("The person who started this import no longer has an account.")
            with tempfile.NamedTemporaryFile(dir=settings.VIDEO_WORK_DIR or None) as tmp:
                _download(job.archive_key, tmp)
                checked = check_archive(tmp)
                tmp.seek(0)
                with zipfile.ZipFile(tmp) as zf:
                    course, notes = import_course(
                        school=school,
                        actor=actor,
                        zf=zf,
                        manifest=checked.manifest,
                        progress=_reporter(CourseImport, job.pk),
                    )
        except (ImportRefused, ArchiveRejected, ValidationError, PermissionDenied) as exc:
            _fail(job, _message(exc))
            _drop_upload(job)
            return "failed"
        except Exception as exc:
            logger.exception("course import %s failed", job.pk)
            _fail(
                job,
                f"The course could not be imported ({type(exc).__name__}). "
                "Nothing was changed; try again.",
            )
            _drop_upload(job)
            return "failed"
        CourseImport.objects.filter(pk=job.pk).update(
            status=JobStatus.READY,
            progress=100,
            course=course,
            notes=notes,
            finished_at=timezone.now(),
        )
        record_audit(
            school=school,
            actor=actor,
            action="course.imported",
            target=course,
            data={"import": job.pk, "filename": job.filename},
        )
        _drop_upload(job)
    return "ready"


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "The archive holds something the course editor refuses: " + " ".join(exc.messages)
    if isinstance(exc, ArchiveRejected):
        return " ".join(exc.problems)
    return str(exc) or "Not allowed."


def _drop_upload(job: CourseImport) -> None:
    if job.archive_key:
        default_storage.delete(job.archive_key)
        CourseImport.objects.filter(pk=job.pk).update(archive_key="")
