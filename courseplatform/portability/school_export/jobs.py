"""Building one whole-school export (the task's work; tests call it directly). Progress
goes to the row as it happens (autocommit), so the owner's page can poll it."""

from __future__ import annotations

import logging
import tempfile
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, gettext_noop

from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.ops import crypto
from courseplatform.portability.course_archive.storagefiles import save_exact
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.storage import school_storage_key

from ..models import SchoolExport
from .builder import build_school_archive
from .links import download_path

logger = logging.getLogger(__name__)


def export_key(school: School, export: SchoolExport) -> str:
    return school_storage_key(school.pk, "school-exports", f"{export.uuid.hex}.zip")


def run_export(*, school_id: int, export_id: int) -> str:
    with school_context(school_id):
        school = School.objects.select_related("plan").filter(pk=school_id).first()
        if school is None:
            return "skipped"
        claimed = SchoolExport.objects.filter(
            school=school, pk=export_id, status=SchoolExport.Status.QUEUED
        ).update(status=SchoolExport.Status.RUNNING, progress=0, step=gettext_noop("Starting"))
        export = SchoolExport.objects.filter(school=school, pk=export_id).first()
        if not claimed or export is None:
            return "skipped"
        passphrase = (
            crypto.decrypt(export.passphrase_ciphertext).decode()
            if export.passphrase_ciphertext
            else ""
        )
        last = [-1]

        def progress(percent: int, step: str) -> None:
            if percent != last[0]:
                last[0] = percent
                SchoolExport.objects.filter(pk=export_id).update(progress=percent, step=step[:120])

        key = export_key(school, export)
        try:
            with tempfile.TemporaryFile(dir=settings.VIDEO_WORK_DIR or None) as tmp:
                with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                    build_school_archive(
                        school=school,
                        zf=zf,
                        codes=export.codes,
                        include_videos=export.include_videos,
                        passphrase=passphrase,
                        progress=progress,
                    )
                size = tmp.tell()
                tmp.seek(0)
                save_exact(key, tmp)
        except Exception as exc:
            logger.exception("school export %s failed", export_id)
            default_storage.delete(key)
            SchoolExport.objects.filter(pk=export_id).update(
                status=SchoolExport.Status.FAILED,
                error=f"The export could not be built ({type(exc).__name__}). Try again.",
                passphrase_ciphertext="",
                finished_at=timezone.now(),
            )
            return "failed"
        now = timezone.now()
        updated = SchoolExport.objects.filter(pk=export_id).update(
            status=SchoolExport.Status.READY,
            progress=100,
            step=gettext_noop("Ready"),
            archive_key=key,
            size=size,
            passphrase_ciphertext="",
            finished_at=now,
            expires_at=now + timedelta(hours=settings.SCHOOL_EXPORT_TTL_HOURS),
        )
        if not updated:  # the row went meanwhile (the school was purged): so does the file
            default_storage.delete(key)
            return "skipped"
        export.refresh_from_db()
        owner = (
            User.objects.filter(school=school, pk=export.requested_by_id, is_active=True).first()
            if export.requested_by_id
            else None
        )
    if owner is not None:
        with school_context(school):
            send_school_email(
                school=school,
                user=owner,
                subject=format_lazy(
                    gettext_lazy("Your export of {school} is ready"), school=school.name
                ),
                template="portability/school/email/export_ready",
                context={
                    "download_url": school_url(school, download_path(export)),
                    "expires_at": export.expires_at,
                    "size_mb": round(size / 1048576, 1),  # localised by the templates
                },
            )
    return "ready"
