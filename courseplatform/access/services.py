"""Writes on access codes: batches, revocation and redemption.

Redemption is the money path. It is one transaction: a lock on the student's
row (one decision per student), the "already enrolled in everything?" check, a
conditional UPDATE of the code row (uses left, not revoked, not expired) that
PostgreSQL serialises per row, a unique (code, student) redemption, and the
enrolments. N uses therefore mean exactly N redemptions under any concurrency,
and one student's parallel codes for the same courses consume one use.

Batches are managed by the school's owner, and by an instructor when every course
of the batch is one they teach (``accounts.permissions``): another school's batch
or code is ``Http404``, one of this school the actor may not manage is
``PermissionDenied``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course, Enrollment
from courseplatform.courses.services import course_event_ref, enroll_student, student_event_ref
from courseplatform.ops.events import emit_event
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE
from courseplatform.telemetry import metrics
from courseplatform.tenancy.models import School

from . import codes
from .models import (
    MAX_BATCH_SIZE,
    MAX_USES_PER_CODE,
    AccessCode,
    AccessCodeBatch,
    BatchCourse,
    Redemption,
)

BULK_SIZE = 1000
MANAGERS_ONLY = _("Only the school's owner and instructors can manage codes.")


@dataclass(frozen=True)
class NewBatch:
    batch: AccessCodeBatch
    codes: list[str]  # formatted plaintext, shown once to the creator (and re-exportable)


def create_batch(
    *,
    school: School,
    actor: User,
    name: str,
    course_ids: Sequence[int],
    code_count: int,
    uses_per_code: int = 1,
    expires_at: datetime | None = None,
    note: str = "",
) -> NewBatch:
    permissions.require_school_manager(school, actor, message=str(MANAGERS_ONLY))
    errors: dict[str, Any] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = gettext("Give the batch a name, e.g. “Spring workshop”.")
    elif len(name) > 120:
        errors["name"] = gettext("Use at most 120 characters.")
    elif CONTROL_CHARACTERS.search(name):
        errors["name"] = CONTROL_CHARACTERS_MESSAGE
    if not 1 <= code_count <= MAX_BATCH_SIZE:
        errors["code_count"] = gettext("Create between 1 and %(maximum)s codes.") % {
            "maximum": number_format(MAX_BATCH_SIZE, force_grouping=True)
        }
    if not 1 <= uses_per_code <= MAX_USES_PER_CODE:
        errors["uses_per_code"] = gettext("Each code can be used 1 to %(maximum)s times.") % {
            "maximum": number_format(MAX_USES_PER_CODE, force_grouping=True)
        }
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = gettext("The expiry must be in the future.")
    unique_ids = sorted(set(course_ids))
    courses = list(Course.objects.filter(school=school, pk__in=unique_ids))
    if not unique_ids:
        errors["courses"] = gettext("Choose at least one course.")
    elif len(courses) != len(unique_ids):
        errors["courses"] = gettext("Choose courses of this school only.")
    if errors:
        raise ValidationError(errors)
    taught = permissions.manageable_courses(actor, Course.objects.filter(school=school))
    if taught.filter(pk__in=unique_ids).count() != len(unique_ids):
        raise PermissionDenied(gettext("You can only make codes for courses you teach."))

    plaintexts: list[str] = []
    seen: set[str] = set()
    while len(plaintexts) < code_count:
        code = codes.generate_code()
        if code not in seen:  # 80-bit codes: a repeat is astronomically unlikely; be exact
            seen.add(code)
            plaintexts.append(code)
    with transaction.atomic():
        batch = AccessCodeBatch.objects.create(
            school=school,
            name=name,
            uses_per_code=uses_per_code,
            code_count=code_count,
            expires_at=expires_at,
            note=note.strip(),
            created_by=actor,
        )
        BatchCourse.objects.bulk_create(
            [BatchCourse(school=school, batch=batch, course=c) for c in courses]
        )
        AccessCode.objects.bulk_create(
            [
                AccessCode(
                    school=school,
                    batch=batch,
                    digest=codes.code_digest(code),
                    ciphertext=codes.encrypt_code(code),
                    max_uses=uses_per_code,
                    expires_at=expires_at,
                )
                for code in plaintexts
            ],
            batch_size=BULK_SIZE,
        )
        record_audit(
            school=school,
            actor=actor,
            action="codes.batch_created",
            target=batch,
            data={
                "codes": code_count,
                "uses_per_code": uses_per_code,
                "courses": [c.pk for c in courses],
            },
        )
    return NewBatch(batch, [codes.format_code(c) for c in plaintexts])


def revoke_batch(*, school: School, actor: User, batch: AccessCodeBatch) -> AccessCodeBatch:
    permissions.require_batch_manager(school, actor, batch)
    now = timezone.now()
    with transaction.atomic():
        batch.revoked_at = batch.revoked_at or now
        batch.save(update_fields=["revoked_at"])
        AccessCode.objects.filter(school=school, batch=batch, revoked_at__isnull=True).update(
            revoked_at=now
        )
        record_audit(school=school, actor=actor, action="codes.batch_revoked", target=batch)
    return batch


def revoke_code(*, school: School, actor: User, code: AccessCode) -> AccessCode:
    permissions.require_in_school(school, code)
    permissions.require_batch_manager(school, actor, code.batch)
    with transaction.atomic():
        if code.revoked_at is None:
            code.revoked_at = timezone.now()
            code.save(update_fields=["revoked_at"])
        record_audit(
            school=school,
            actor=actor,
            action="codes.code_revoked",
            target=code,
            data={"batch": code.batch_id},
        )
    return code


def export_batch_codes(
    *,
    school: School,
    actor: User,
    batch: AccessCodeBatch,
    code_ids: Collection[int] | None = None,
) -> list[AccessCode]:
    """Codes of a batch with their plaintext attached as ``.plaintext`` (audited).

    ``code_ids`` limits the result to those codes of the batch (one page of a table).
    """
    permissions.require_batch_manager(school, actor, batch)
    qs = AccessCode.objects.filter(school=school, batch=batch)
    if code_ids is not None:
        qs = qs.filter(pk__in=list(code_ids))
    rows = list(qs.order_by("id"))
    for row in rows:
        row.plaintext = codes.format_code(codes.decrypt_code(row.ciphertext))  # type: ignore[attr-defined]
    record_audit(
        school=school,
        actor=actor,
        action="codes.batch_exported",
        target=batch,
        data={} if code_ids is None else {"codes": len(rows)},
    )
    return rows


# --- redemption --------------------------------------------------------------------------


# Malformed or unknown codes. The other failures ("revoked", "expired", "exhausted")
# are answers about a real code, which a guesser almost never reaches.
GUESS_REASONS = frozenset({"format", "invalid"})


class RedeemError(Exception):
    """Why a code was not accepted. ``reason`` is stable for logs and tests."""

    def __init__(self, reason: str, message: str | Promise) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def is_guess(self) -> bool:
        """A wrong code: only these count against the guessing limits."""
        return self.reason in GUESS_REASONS


# Lazy: the words are chosen in the language of whoever reads them (page or API).
MESSAGES: dict[str, Promise] = {
    "format": _(
        "That does not look like a code. Codes have 16 letters and digits, "
        "like K7QM-3XTA-9BDR-W2HN."
    ),
    "invalid": _("We could not find that code. Check it for typos and try again."),
    "revoked": _("This code has been withdrawn by the school."),
    "expired": _("This code has expired."),
    "exhausted": _("This code has been fully used."),
}


@dataclass(frozen=True)
class RedeemResult:
    courses: list[Course]
    newly_enrolled: list[Course] = field(default_factory=list)
    already_enrolled: bool = False

    @property
    def first_course(self) -> Course | None:
        ordered = self.newly_enrolled or self.courses
        return ordered[0] if ordered else None


def _fail(
    school: School, student: User, reason: str, ip: str | None, code: AccessCode | None = None
) -> RedeemError:
    metrics.CODE_REDEMPTIONS.labels(reason).inc()
    # The audit never holds the plaintext; a matched code is referenced by id.
    record_audit(
        school=school,
        actor=student,
        action="codes.redeem_failed",
        target=code,
        data={"reason": reason},
        ip=ip,
    )
    return RedeemError(reason, MESSAGES[reason])


def _lock_student(school: School, student: User) -> None:
    # One redemption decision per student at a time: two different codes for the same
    # course, submitted at once, would otherwise both see "not enrolled yet" and both
    # consume a use. NO KEY UPDATE does not block the student's other writes (rows that
    # merely reference the user take KEY SHARE). SQLite ignores it and serialises
    # writers anyway.
    list(
        User.objects.select_for_update(no_key=True)
        .filter(school=school, pk=student.pk)
        .values_list("pk", flat=True)
    )


def _enrolled_in_all(school: School, student: User, courses: list[Course]) -> bool:
    enrolled = set(
        Enrollment.objects.filter(school=school, student=student, course__in=courses).values_list(
            "course_id", flat=True
        )
    )
    return bool(courses) and enrolled >= {c.pk for c in courses}


def redeem_code(
    *, school: School, student: User, raw_code: str, ip: str | None = None
) -> RedeemResult:
    """Enrol ``student`` in every course of the code's batch, consuming one use.

    Raises RedeemError (reason: format, invalid, revoked, expired, exhausted). A
    code of another school fails exactly like a wrong code. If the student is
    already enrolled in every course, no use is consumed; the check and the
    consumption are one decision per student (see ``_lock_student``), and a use is
    given back if nothing new was enrolled after all.
    """
    if student.school_id != school.pk:
        raise PermissionDenied("Not found.")
    try:
        normalized = codes.normalize_code(raw_code)
    except codes.CodeFormatError:
        raise _fail(school, student, "format", ip) from None
    code = (
        AccessCode.objects.select_related("batch")
        .filter(school=school, digest=codes.code_digest(normalized))
        .first()
    )
    if code is None:
        raise _fail(school, student, "invalid", ip)
    courses = list(
        Course.objects.filter(school=school, batchcourse__batch_id=code.batch_id).order_by("id")
    )
    already = RedeemResult(courses=courses, already_enrolled=True)

    now = timezone.now()
    try:
        with transaction.atomic():
            _lock_student(school, student)
            if _enrolled_in_all(school, student, courses):
                raise _NothingNew
            # The row lock taken by this UPDATE serialises concurrent redemptions of the
            # same code; each re-checks uses_count after the previous one commits.
            consumed = AccessCode.objects.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now),
                school=school,
                pk=code.pk,
                revoked_at__isnull=True,
                uses_count__lt=F("max_uses"),
            ).update(uses_count=F("uses_count") + 1)
            if consumed != 1:
                raise _NoUseLeft
            redemption = Redemption.objects.create(school=school, code=code, student=student, ip=ip)
            newly = []
            for course in courses:
                _, created = enroll_student(
                    school=school,
                    actor=student,
                    course=course,
                    student=student,
                    source=Enrollment.Source.CODE,
                )
                if created:
                    newly.append(course)
            if courses and not newly:
                # Enrolled meanwhile by another path (an instructor adding the student):
                # raising rolls back the use and the redemption row.
                raise _NothingNew
            record_audit(
                school=school,
                actor=student,
                action="codes.redeemed",
                target=code,
                data={"batch": code.batch_id, "courses": [c.pk for c in courses]},
                ip=ip,
            )
            # Never the code itself: it is a bearer secret until fully used.
            emit_event(
                school=school,
                type="code.redeemed",
                data={
                    "redemption_id": redemption.pk,
                    "code_id": code.pk,
                    "batch": {"id": code.batch_id, "name": code.batch.name},
                    "student": student_event_ref(student),
                    "courses": [course_event_ref(c) for c in courses],
                    "newly_enrolled": [c.pk for c in newly],
                    "redeemed_at": redemption.created_at.isoformat(),
                },
            )
    except _NothingNew:
        metrics.CODE_REDEMPTIONS.labels("already_enrolled").inc()
        return already
    except _NoUseLeft:
        code.refresh_from_db(fields=["revoked_at", "expires_at", "uses_count"])
        if code.revoked_at is not None:
            reason = "revoked"
        elif code.expires_at is not None and code.expires_at <= now:
            reason = "expired"
        else:
            reason = "exhausted"
        raise _fail(school, student, reason, ip, code) from None
    except IntegrityError:
        # This student already redeemed this code; the use taken above is rolled back.
        metrics.CODE_REDEMPTIONS.labels("already_enrolled").inc()
        return already
    metrics.CODE_REDEMPTIONS.labels("redeemed").inc()
    return RedeemResult(courses=courses, newly_enrolled=newly)


class _NothingNew(Exception):
    """Internal: the student already has every course of the code."""


class _NoUseLeft(Exception):
    """Internal: the conditional UPDATE matched no row."""
