"""Writes on certificates: settings, issue (once), bulk issue, revoke.

Keyword-only, school first, then the actor. The settings, the bulk issue and revoking
are the school owner's (``accounts.permissions``); issuing for one student needs no
actor: it follows the student's completing the course (``on_course_completed``, the
subscriber of the ``course.completed`` event that courses emits after commit).
"""

from __future__ import annotations

import contextlib
import io
import logging
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.courses.models import Course
from courseplatform.courses.selectors import has_completed_course
from courseplatform.ops.events import Event
from courseplatform.ops.files import UploadRejected, delete_school_file, store_school_file
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sites.theming import make_logo
from courseplatform.tenancy.generation import bump_content_generation
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url

from .models import Certificate, CertificateSettings, PaperSize

logger = logging.getLogger(__name__)

OWNER_ONLY = gettext_lazy("Only the school owner manages certificates.")
SIGNATURE_FOLDER = "certificates"
TEXT_MAX = 120
REASON_MAX = 300


class CertificateError(Exception):
    """A request that cannot be honoured; the message is safe to show."""


def new_code() -> str:
    """128 random bits, URL-safe: unguessable, and no sequence to walk."""
    return secrets.token_urlsafe(16)


def verify_path(code: str) -> str:
    return f"/certificates/{code}/"


def _clean(value: str, *, field: str, required: bool, max_length: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    validate_single_line(value, field=field)
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError(
            {field: _("Use at most %(count)s characters.") % {"count": max_length}}
        )
    return value


def _locked_settings(school: School, course: Course) -> CertificateSettings:
    CertificateSettings.objects.get_or_create(school=school, course=course)
    return CertificateSettings.objects.select_for_update().get(school=school, course=course)


def update_settings(
    *,
    school: School,
    actor: User,
    course: Course,
    enabled: bool,
    title: str,
    signer_name: str,
    signer_title: str = "",
    paper_size: str = PaperSize.A4,
    ip: str | None = None,
) -> CertificateSettings:
    """Turn the course's certificate on or off and set its wording (audited)."""
    permissions.require_school_owner(school, actor, course, message=str(OWNER_ONLY))
    values: dict[str, Any] = {
        "enabled": bool(enabled),
        "title": _clean(title, field="title", required=True),
        "signer_name": _clean(signer_name, field="signer_name", required=bool(enabled)),
        "signer_title": _clean(signer_title, field="signer_title", required=False),
    }
    if paper_size not in PaperSize.values:
        raise ValidationError({"paper_size": _("Choose A4 or US Letter.")})
    values["paper_size"] = paper_size
    with transaction.atomic():
        current = _locked_settings(school, course)
        changed = [name for name, value in values.items() if getattr(current, name) != value]
        if not changed:
            return current
        for name in changed:
            setattr(current, name, values[name])
        current.save()
        record_audit(
            school=school,
            actor=actor,
            action="certificate.settings_changed",
            target=course,
            data={"changed": changed, "enabled": current.enabled},
            ip=ip,
        )
    return current


def set_signature_image(
    *, school: School, actor: User, course: Course, upload: Any | None, ip: str | None = None
) -> CertificateSettings:
    """Store a signature image (validated and re-encoded like the logo: JPEG, PNG, WebP or
    GIF within MAX_IMAGE_BYTES, at most 512 px a side, saved as PNG), or remove it with
    ``upload=None``. Raises UploadRejected with a message for the uploader."""
    permissions.require_school_owner(school, actor, course, message=str(OWNER_ONLY))
    new_key = ""
    if upload is not None:
        image = make_logo(upload)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        new_key = store_school_file(
            school=school,
            folder=SIGNATURE_FOLDER,
            upload=ContentFile(buffer.getvalue()),
            extension="png",
        )
    try:
        with transaction.atomic():
            current = _locked_settings(school, course)
            old_key = current.signature_key
            current.signature_key = new_key
            current.save(update_fields=["signature_key", "updated_at"])
            record_audit(
                school=school,
                actor=actor,
                action="certificate.settings_changed",
                target=course,
                data={"changed": ["signature"], "signature": "uploaded" if new_key else "removed"},
                ip=ip,
            )
            if old_key:
                transaction.on_commit(lambda: delete_school_file(school=school, key=old_key))
    except Exception:
        if new_key:
            delete_school_file(school=school, key=new_key)
        raise
    return current


def _snapshot(
    school: School, student: User, course: Course, conf: CertificateSettings
) -> dict[str, Any]:
    return {
        "title": conf.title,
        "student_name": (student.full_name or student.email)[:200],
        "course_title": course.title[:200],
        "school_name": school.name[:200],
        "signer_name": conf.signer_name,
        "signer_title": conf.signer_title,
    }


def issue_certificate(
    *, school: School, actor: User | None, course: Course, student: User, notify: bool = True
) -> tuple[Certificate, bool]:
    """Issue ``student``'s certificate of ``course`` once: returns (certificate, created).

    Refused (CertificateError) when the course has no enabled certificate or the student
    has not completed every lesson. Concurrent calls create one row (the unique
    constraint on course and student); the loser returns the winner's certificate.
    The student is emailed after commit.
    """
    permissions.require_in_school(school, course, student)
    existing = Certificate.objects.filter(school=school, course=course, student=student).first()
    if existing is not None:
        return existing, False
    conf = CertificateSettings.objects.filter(school=school, course=course, enabled=True).first()
    if conf is None:
        raise CertificateError(_("This course has no certificate."))
    if not has_completed_course(school=school, student=student, course_id=course.pk):
        raise CertificateError(_("The student has not completed every lesson of this course."))
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                school=school,
                course=course,
                student=student,
                code=new_code(),
                issued_at=timezone.now(),
                **_snapshot(school, student, course, conf),
            )
            record_audit(
                school=school,
                actor=actor,
                action="certificate.issued",
                target=certificate,
                data={
                    "course": course.pk,
                    "student": student.pk,
                    "by": "owner" if actor else "completion",
                },
            )
    except IntegrityError:  # a concurrent call issued it first
        return Certificate.objects.get(school=school, course=course, student=student), False
    if notify:
        transaction.on_commit(lambda: _email_issued(school, certificate, student))
    return certificate, True


def _email_issued(school: School, certificate: Certificate, student: User) -> None:
    try:
        send_school_email(
            school=school,
            user=student,
            subject=format_lazy(
                gettext_lazy("Your certificate for {course}"), course=certificate.course_title
            ),
            template="certificates/email/issued",
            context={
                "certificate": certificate,
                "download_url": school_url(school, f"/my/certificates/{certificate.code}.pdf"),
                "verify_url": school_url(school, verify_path(certificate.code)),
                "my_courses_url": school_url(school, "/my/"),
            },
        )
    except Exception:  # the certificate stands; the student also finds it on My courses
        logger.exception("could not email certificate %s", certificate.pk)


def on_course_completed(event: Event) -> None:
    """Subscriber of ``course.completed``: issue the certificate if the course has one."""
    if event.type != "course.completed":
        return
    with school_context(event.school_id):
        school = School.objects.get(pk=event.school_id)
        course = Course.objects.filter(school=school, pk=event.data["course"]["id"]).first()
        student = User.objects.filter(school=school, pk=event.data["student"]["id"]).first()
        if course is None or student is None:
            return
        # CertificateError: no certificate enabled, or a lesson was un-completed meanwhile.
        with contextlib.suppress(CertificateError):
            issue_certificate(school=school, actor=None, course=course, student=student)


def issue_batch(
    *, school: School, actor: User | None, course: Course, student_ids: list[int]
) -> int:
    """Issue to each of these students (skipping those who no longer qualify)."""
    issued = 0
    for student in User.objects.filter(school=school, pk__in=student_ids).order_by("pk"):
        try:
            _, created = issue_certificate(
                school=school, actor=actor, course=course, student=student
            )
        except CertificateError:
            continue
        issued += int(created)
    return issued


def revoke_certificate(
    *, school: School, actor: User, certificate: Certificate, reason: str, ip: str | None = None
) -> Certificate:
    """Revoke (audited): its page then says so, and its PDF no longer verifies as valid."""
    permissions.require_school_owner(school, actor, certificate, message=str(OWNER_ONLY))
    reason = _clean(reason, field="reason", required=False, max_length=REASON_MAX)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(school=school, pk=certificate.pk)
        if locked.revoked_at is not None:
            raise CertificateError(_("This certificate is already revoked."))
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        record_audit(
            school=school,
            actor=actor,
            action="certificate.revoked",
            target=locked,
            data={"course": locked.course_id, "student": locked.student_id, "reason": reason},
            ip=ip,
        )
        # The public verification page is cached for visitors (ops.edgecache): a new
        # content generation makes the next visitor see "revoked".
        bump_content_generation(school.pk)
    return locked


__all__ = [
    "CertificateError",
    "UploadRejected",
    "issue_certificate",
    "revoke_certificate",
    "set_signature_image",
    "update_settings",
]
