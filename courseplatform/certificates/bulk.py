"""Bulk issue: "issue to everyone who qualifies", in the request or the task worker.

Students who completed a course before its certificate was turned on get theirs when
the owner asks. Up to ``CERTIFICATE_BULK_INLINE_MAX`` are issued in the request; more
are handed to the task worker (``issue_to_qualifying_task``, default queue), which
issues in batches. Issuing is idempotent, so a repeated click or task changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from .models import CertificateSettings
from .selectors import qualifying_without_certificate
from .services import OWNER_ONLY, CertificateError, issue_batch

BATCH = 200


def issue_to_qualifying(*, school: School, actor: User, course: Course) -> tuple[int, int]:
    """ "Issue to everyone who qualifies": students who completed the course before the
    certificate was enabled. Up to CERTIFICATE_BULK_INLINE_MAX are issued now; more are
    handed to the task worker. Returns (issued now, queued)."""
    permissions.require_school_owner(school, actor, course, message=str(OWNER_ONLY))
    if not CertificateSettings.objects.filter(school=school, course=course, enabled=True).exists():
        raise CertificateError(_("Turn the certificate on first."))
    pending = qualifying_without_certificate(school=school, course=course)
    limit = settings.CERTIFICATE_BULK_INLINE_MAX
    student_ids = list(pending.values_list("student_id", flat=True)[: limit + 1])
    if not student_ids:
        return 0, 0
    record_audit(
        school=school,
        actor=actor,
        action="certificate.bulk_issue",
        target=course,
        data={"queued": len(student_ids) > limit, "first_batch": min(len(student_ids), limit)},
    )
    if len(student_ids) > limit:
        queued = pending.count()
        enqueue_bulk_issue(school_id=school.pk, course_id=course.pk, actor_id=actor.pk)
        return 0, queued
    issued = issue_batch(school=school, actor=actor, course=course, student_ids=student_ids)
    return issued, 0


def enqueue_bulk_issue(*, school_id: int, course_id: int, actor_id: int) -> None:
    transaction.on_commit(lambda: issue_to_qualifying_task.enqueue(school_id, course_id, actor_id))


@task()
def issue_to_qualifying_task(school_id: int, course_id: int, actor_id: int) -> int:
    """Issue to every qualifying student of the course, a batch at a time; returns how
    many were issued."""
    issued = 0
    with school_context(school_id):
        school = School.objects.get(pk=school_id)
        course = Course.objects.filter(school=school, pk=course_id).first()
        if course is None:
            return 0
        actor = User.objects.filter(school=school, pk=actor_id).first()
        skipped: set[int] = set()
        while True:
            ids = list(
                qualifying_without_certificate(school=school, course=course)
                .exclude(student_id__in=skipped)
                .values_list("student_id", flat=True)[:BATCH]
            )
            if not ids:
                return issued
            done = issue_batch(school=school, actor=actor, course=course, student_ids=ids)
            issued += done
            if done < len(ids):
                # Some were not issued (the certificate was turned off meanwhile, or a
                # race): never ask for them again, or the loop would not end.
                skipped |= set(
                    qualifying_without_certificate(school=school, course=course)
                    .filter(student_id__in=ids)
                    .values_list("student_id", flat=True)
                )
