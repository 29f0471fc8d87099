"""Writes of the roster app: upload (parse + preview, stored), apply (queued for the
task worker), discard. Owners and instructors only; every step is audited.

Nothing about the school's people or enrolments changes before ``apply_import``: the
upload stores only the import and its checked rows. Applying is the worker's
(``tasks.py``), row by row through the same services as "add a student by email".
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from . import tasks
from .models import StudentImport, StudentImportRow
from .parsing import ImportFileError, read_upload
from .planning import plan_rows, row_fields

logger = logging.getLogger(__name__)

Action = StudentImportRow.Action


class RosterError(Exception):
    """A request about an import that cannot be honoured; the message is safe to show."""


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code="invalid_file")})


def _megabytes(size: int) -> str:
    return number_format(size / 1024 / 1024, decimal_pos=1, force_grouping=True)


def read_limited(upload: UploadedFile) -> bytes:
    """The upload's bytes, refusing one above ``ROSTER_IMPORT_MAX_BYTES`` before reading."""
    limit = settings.ROSTER_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _refuse(
            gettext(
                "The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files."
            )
            % {"size": _megabytes(upload.size), "limit": _megabytes(limit)}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(
            gettext("The file is larger than %(limit)s MB.") % {"limit": _megabytes(limit)}
        )
    return data


def create_import(
    *, school: School, actor: User, upload: UploadedFile, port: str | None = None
) -> StudentImport:
    """Parse and check an uploaded list and store it as a preview (nothing else
    changes). A file to refuse raises ``ValidationError`` on ``file``."""
    permissions.require_school_manager(school, actor)
    filename = (upload.name or "upload").rsplit("/", 1)[-1][:255]
    data = read_limited(upload)
    try:
        kind, parsed = read_upload(
            data=data, filename=filename, max_rows=settings.ROSTER_IMPORT_MAX_ROWS
        )
    except ImportFileError as exc:
        raise _refuse(str(exc)) from exc
    plan = plan_rows(school=school, actor=actor, rows=parsed)
    with transaction.atomic():
        student_import = StudentImport.objects.create(
            school=school,
            created_by=actor,
            filename=filename,
            file_format=kind,
            port=port or "",
            total_rows=len(plan.rows),
            invite_rows=plan.count(Action.INVITE),
            enroll_rows=plan.count(Action.ENROLL),
            unchanged_rows=plan.count(Action.UNCHANGED),
            invalid_rows=plan.count(Action.INVALID),
            over_limit_rows=plan.over_limit,
            warning_rows=plan.warnings,
            student_limit=plan.student_limit,
            students_before=plan.students_before,
        )
        StudentImportRow.objects.bulk_create(
            (
                StudentImportRow(
                    school=school,
                    student_import=student_import,
                    status=StudentImportRow.Status.PENDING
                    if row.action in (Action.INVITE, Action.ENROLL)
                    else StudentImportRow.Status.SKIPPED,
                    **row_fields(row),
                )
                for row in plan.rows
            ),
            batch_size=1000,
        )
        record_audit(
            school=school,
            actor=actor,
            action="roster.import_uploaded",
            target=student_import,
            data={
                "filename": filename,
                "rows": student_import.total_rows,
                "invite": student_import.invite_rows,
                "enroll": student_import.enroll_rows,
                "invalid": student_import.invalid_rows,
            },
        )
    return student_import


def _require_own(school: School, actor: User, student_import: StudentImport) -> None:
    permissions.require_school_manager(school, actor, student_import)
    if student_import.created_by_id != actor.pk and not permissions.is_school_owner(actor, school):
        raise PermissionDenied(
            gettext("Only the school's owner or who uploaded the file can do this.")
        )


def apply_import(*, school: School, actor: User, student_import: StudentImport) -> StudentImport:
    """Queue the import's valid rows for the task worker (once: applying an import that
    is already applying or done is refused and changes nothing)."""
    _require_own(school, actor, student_import)
    with transaction.atomic():
        locked = StudentImport.objects.select_for_update().get(school=school, pk=student_import.pk)
        if locked.status != StudentImport.Status.PREVIEW:
            raise RosterError(
                gettext(
                    "This import is %(status)s: it cannot be applied again. "
                    "Upload the file again to re-check it."
                )
                % {"status": locked.get_status_display().lower()}
            )
        locked.started_at = timezone.now()
        pending = locked.rows.filter(status=StudentImportRow.Status.PENDING).exists()
        if pending:
            locked.status = StudentImport.Status.APPLYING
        else:
            locked.status = StudentImport.Status.DONE
            locked.finished_at = locked.started_at
        locked.save(update_fields=["status", "started_at", "finished_at"])
        record_audit(
            school=school,
            actor=actor,
            action="roster.import_applied",
            target=locked,
            data={"filename": locked.filename, "rows": locked.actionable_rows},
        )
        if pending:
            tasks.enqueue_import_batch(school_id=school.pk, import_id=locked.pk)
    return locked


def discard_import(*, school: School, actor: User, student_import: StudentImport) -> None:
    """Drop a preview that will not be applied (its rows go with it; audited)."""
    _require_own(school, actor, student_import)
    with transaction.atomic():
        locked = StudentImport.objects.select_for_update().get(school=school, pk=student_import.pk)
        if locked.status != StudentImport.Status.PREVIEW:
            raise RosterError(gettext("Only an import that has not been applied can be discarded."))
        locked.rows.all().delete()
        locked.status = StudentImport.Status.DISCARDED
        locked.save(update_fields=["status"])
        record_audit(
            school=school,
            actor=actor,
            action="roster.import_discarded",
            target=locked,
            data={"filename": locked.filename},
        )


def release_claimed_rows(*, school_id: int, import_id: int) -> int:
    """Put the rows of an import that a batch took but never finished (its worker
    stopped) back to waiting, so the next batch applies them (applying a row twice
    changes nothing: an existing account or enrolment is left as it is); how many."""
    with school_context(school_id):
        released = StudentImportRow.objects.filter(
            school_id=school_id,
            student_import_id=import_id,
            status=StudentImportRow.Status.APPLYING,
        ).update(status=StudentImportRow.Status.PENDING, claimed_at=None)
    logger.warning(
        "student import %s of school %s resumed: %s row(s) back to waiting",
        import_id,
        school_id,
        released,
    )
    return released
