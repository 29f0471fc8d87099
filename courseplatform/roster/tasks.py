"""Applying a bulk import in the task worker (``manage.py db_worker``).

``apply_import_batch(school_id, import_id)`` claims the next ``ROSTER_IMPORT_BATCH_SIZE``
waiting rows (``SKIP LOCKED``: two workers never apply the same row), applies each in
its own transaction and records done / failed with the reason: one failing row never
stops the rest. While rows wait it enqueues the next batch; the run that applies the
last row marks the import done and audits it. A row is applied through the same
services as "add a student by email": an address with an account here is enrolled
(already enrolled: nothing changes), a new one gets an invited account (the plan's
student limit checked again, under the school's lock) and the usual invitation email,
sent once its account has committed. Re-entering the school's context (runtime role,
row-level security) comes first.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext

from courseplatform.accounts import permissions
from courseplatform.accounts.language import recipient_language
from courseplatform.accounts.models import User
from courseplatform.accounts.services import (
    create_invited_student,
    invitation_details,
    send_invitation,
)
from courseplatform.courses.models import Course, Enrollment
from courseplatform.courses.services import enroll_student
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from .models import StudentImport, StudentImportRow

logger = logging.getLogger(__name__)

RESULT_MAX = 500
Status = StudentImportRow.Status


class RowRefused(Exception):
    """A row that cannot be applied; the message is shown in the report."""


def enqueue_import_batch(*, school_id: int, import_id: int) -> None:
    """Enqueue the next batch once the current transaction commits."""
    transaction.on_commit(lambda: apply_import_batch.enqueue(school_id, import_id))


@task()
def apply_import_batch(school_id: int, import_id: int) -> dict[str, int]:
    return run_import_batch(school_id=school_id, import_id=import_id)


def _claim(student_import: StudentImport, size: int) -> list[StudentImportRow]:
    with transaction.atomic():
        batch = list(
            StudentImportRow.objects.select_for_update(skip_locked=True)
            .filter(
                school_id=student_import.school_id,
                student_import=student_import,
                status=Status.PENDING,
            )
            .order_by("line")[:size]
        )
        StudentImportRow.objects.filter(pk__in=[row.pk for row in batch]).update(
            status=Status.APPLYING, claimed_at=timezone.now()
        )
    return batch


def run_import_batch(*, school_id: int, import_id: int) -> dict[str, int]:
    outcome = {"done": 0, "failed": 0, "waiting": 0}
    with school_context(school_id):
        school = School.objects.get(pk=school_id)
        student_import = (
            StudentImport.objects.select_related("created_by")
            .filter(school_id=school_id, pk=import_id, status=StudentImport.Status.APPLYING)
            .first()
        )
        if student_import is None:
            return outcome
        batch = _claim(student_import, settings.ROSTER_IMPORT_BATCH_SIZE)
        slugs = {slug for row in batch for slug in row.courses}
        courses = {
            course.slug: course
            for course in Course.objects.filter(school=school, slug__in=slugs).prefetch_related(
                "instructors"
            )
        }
        # Each row's result is read by who uploaded the file: in their language.
        reader = recipient_language(school=school, user=student_import.created_by)
        for row in batch:
            with translation.override(reader):
                status, result = _apply_row(school, student_import, row, courses)
            StudentImportRow.objects.filter(pk=row.pk).update(
                status=status, result=result[:RESULT_MAX], applied_at=timezone.now()
            )
            outcome[str(status)] += 1
        outcome["waiting"] = StudentImportRow.objects.filter(
            school_id=school_id,
            student_import=student_import,
            status__in=(Status.PENDING, Status.APPLYING),
        ).count()
        if outcome["waiting"]:
            if StudentImportRow.objects.filter(
                school_id=school_id, student_import=student_import, status=Status.PENDING
            ).exists():
                enqueue_import_batch(school_id=school_id, import_id=import_id)
        else:
            _finish(school, student_import)
    logger.info("student import %s batch: %s", import_id, outcome)
    return outcome


def _finish(school: School, student_import: StudentImport) -> None:
    """Mark the import done; only the run whose update wins audits it."""
    with transaction.atomic():
        won = StudentImport.objects.filter(
            school=school, pk=student_import.pk, status=StudentImport.Status.APPLYING
        ).update(status=StudentImport.Status.DONE, finished_at=timezone.now())
        if not won:
            return
        rows = StudentImportRow.objects.filter(school=school, student_import=student_import)
        record_audit(
            school=school,
            actor=student_import.created_by,
            action="roster.import_finished",
            target=student_import,
            data={
                "filename": student_import.filename,
                "done": rows.filter(status=Status.DONE).count(),
                "failed": rows.filter(status=Status.FAILED).count(),
            },
        )


def _apply_row(
    school: School,
    student_import: StudentImport,
    row: StudentImportRow,
    courses: dict[str, Course],
) -> tuple[str, str]:
    actor = student_import.created_by
    invited: User | None = None
    try:
        if actor is None or not permissions.can_manage_school(actor, school):
            raise RowRefused(gettext("Who uploaded this file can no longer manage the school."))
        with transaction.atomic():
            address, name = invitation_details(email=row.email, full_name=row.name)
            student = User.objects.filter(school=school, email=address).first()
            if student is None:
                student = invited = create_invited_student(
                    school=school, actor=actor, address=address, name=name
                )
            enrolled: list[str] = []
            for slug in dict.fromkeys(row.courses):
                course = courses.get(slug)
                if course is None:
                    raise RowRefused(
                        gettext("The course “%(slug)s” no longer exists.") % {"slug": slug}
                    )
                permissions.require_course_manager(school, actor, course)
                _, created = enroll_student(
                    school=school,
                    actor=actor,
                    course=course,
                    student=student,
                    source=Enrollment.Source.MANUAL,
                )
                if created:
                    enrolled.append(slug)
    except RowRefused as exc:
        return Status.FAILED, str(exc)
    except ValidationError as exc:
        return Status.FAILED, " ".join(exc.messages)
    except (PermissionDenied, Http404):
        return Status.FAILED, gettext("You may not enrol students in one of these courses.")
    except Exception as exc:  # one broken row must not stop the others
        logger.exception("student import %s row %s failed", student_import.pk, row.line)
        return Status.FAILED, gettext("Unexpected error: %(error)s.") % {
            "error": type(exc).__name__
        }
    parts = [gettext("Account created and invited.") if invited else gettext("Existing account.")]
    parts.append(
        gettext("Enrolled in %(courses)s.") % {"courses": ", ".join(enrolled)}
        if enrolled
        else gettext("No new enrolment.")
    )
    if invited is not None:
        first = courses[enrolled[0]].title if enrolled else ""
        try:
            send_invitation(
                school=school, user=invited, course_title=first, port=student_import.port or None
            )
        except Exception as exc:
            logger.warning(
                "invitation for import %s row %s failed: %s", student_import.pk, row.line, exc
            )
            return Status.FAILED, " ".join(
                [
                    *parts,
                    gettext(
                        "The invitation email failed (%(error)s): "
                        "ask them to use “Forgot password”."
                    )
                    % {"error": type(exc).__name__},
                ]
            )
    return Status.DONE, " ".join(parts)
