"""Requesting a whole-school export, its signed download link, and expiry.

The owner asks (``request_export``); the task worker builds the zip (``jobs.run_export``);
the owner is emailed a link on the school's host, signed and valid until the export
expires (``SCHOOL_EXPORT_TTL_HOURS``); ``expire_exports`` (hourly housekeeping) deletes
the files of expired exports.
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops import crypto
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context

from ..models import SchoolExport
from . import passphrase as codes_crypto

OWNER_ONLY = gettext_lazy("Only the school owner can export the whole school.")


class ExportError(Exception):
    """The export cannot be requested; the message says why."""


def request_export(
    *,
    school: School,
    actor: User,
    codes: str,
    passphrase: str = "",
    include_videos: bool = False,
    ip: str | None = None,
) -> SchoolExport:
    permissions.require_school_owner(school, actor, message=str(OWNER_ONLY))
    if codes not in SchoolExport.Codes.values:
        raise ExportError(_("Choose how the access codes are exported."))
    if codes == SchoolExport.Codes.ENCRYPTED:
        if not codes_crypto.MIN_LENGTH <= len(passphrase) <= codes_crypto.MAX_LENGTH:
            raise ExportError(
                _("Use a passphrase of %(min)s to %(max)s characters.")
                % {"min": codes_crypto.MIN_LENGTH, "max": codes_crypto.MAX_LENGTH}
            )
    else:
        passphrase = ""
    with transaction.atomic():
        # One export at a time per school: the lock makes two quick clicks one export.
        School.objects.select_for_update().filter(pk=school.pk).first()
        busy = SchoolExport.objects.filter(
            school=school, status__in=[SchoolExport.Status.QUEUED, SchoolExport.Status.RUNNING]
        ).exists()
        if busy:
            raise ExportError(_("An export is already being built; wait for it to finish."))
        export = SchoolExport.objects.create(
            school=school,
            requested_by=actor,
            codes=codes,
            include_videos=bool(include_videos),
            passphrase_ciphertext=crypto.encrypt(passphrase.encode()) if passphrase else "",
        )
        record_audit(
            school=school,
            actor=actor,
            action="school.export_requested",
            target=export,
            data={"codes": codes, "videos": bool(include_videos)},
            ip=ip,
        )
        school_id, export_id = school.pk, export.pk

        def enqueue() -> None:
            from .tasks import build_school_export

            build_school_export.enqueue(school_id, export_id)

        transaction.on_commit(enqueue)
    return export


def downloadable(*, school: School, export_uuid: str) -> SchoolExport | None:
    now = timezone.now()
    try:
        return SchoolExport.objects.filter(
            school=school,
            uuid=export_uuid,
            status=SchoolExport.Status.READY,
            expires_at__gt=now,
        ).first()
    except Exception:  # a malformed uuid: the same answer as an unknown one
        return None


def recent_exports(*, school: School, limit: int = 10) -> list[SchoolExport]:
    return list(SchoolExport.objects.filter(school=school).order_by("-created_at", "-id")[:limit])


def get_export(*, school: School, export_uuid: str) -> SchoolExport | None:
    try:
        return SchoolExport.objects.filter(school=school, uuid=export_uuid).first()
    except Exception:
        return None


def expire_exports(*, now: datetime | None = None) -> int:
    """Delete the files of every school's expired exports (hourly housekeeping)."""
    now = now or timezone.now()
    # A read-only scan across schools; each change below is audited in its school.
    with platform_bypass(actor=None, reason="scan for expired school exports", audit=False):
        due = list(
            SchoolExport.objects.filter(status=SchoolExport.Status.READY, expires_at__lte=now)
            .order_by("school_id", "pk")
            .values_list("school_id", "pk")
        )
    expired = 0
    for school_id, export_id in due:
        with school_context(school_id), transaction.atomic():
            export = (
                SchoolExport.objects.select_for_update()
                .filter(school_id=school_id, pk=export_id, status=SchoolExport.Status.READY)
                .first()
            )
            if export is None:
                continue
            if export.archive_key:
                default_storage.delete(export.archive_key)
            SchoolExport.objects.filter(pk=export.pk).update(
                status=SchoolExport.Status.EXPIRED, archive_key=""
            )
            record_audit(
                school=export.school,
                actor=None,
                action="school.export_expired",
                target=export,
            )
            expired += 1
    return expired
