"""Writes on videos: create an asset for an upload, start/cancel its processing,
delete it with its files, attach it to a lesson. The figures metered against the plan
are read in ``selectors.py``; the transcode job is enqueued and failed in ``tasks.py``.

Every function is keyword-only, takes the school first (and the acting user next
where a person acts), checks that every object it is handed belongs to that
school (``Http404`` if not, see ``accounts.permissions``), and raises
``ValidationError`` (a message for the person) or ``PermissionDenied``.

Storage keys follow the layout contract in ``video/models.py``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key
from courseplatform.tenancy.usage import storage_used_bytes

from .models import VideoAsset
from .storage import delete_storage_prefix
from .tasks import enqueue_transcode, mark_failed

if TYPE_CHECKING:
    from courseplatform.courses.models import Lesson

logger = logging.getLogger(__name__)

MAX_FILENAME_CHARS = 120
# What an upload may be: a file with a video/* media type, or one with one of these
# extensions (whatever the media type says: browsers report many videos as
# application/octet-stream). The upload pickers offer exactly this; the probe then
# decides what really is a video.
VIDEO_EXTENSIONS = (
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "mts", "m2ts", "3gp", "wmv", "mpg", "mpeg",
)  # fmt: skip
# ValidationError codes of a refusal by the plan's limits (upload size, storage).
PLAN_LIMIT = "plan_limit"
# Statuses whose job may still be running somewhere; deleting such an asset cancels it.
ACTIVE_STATUSES = (VideoAsset.Status.QUEUED, VideoAsset.Status.PROCESSING)


# --- helpers ---------------------------------------------------------------------------


def _mb(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024**2:.1f} MB"


def sanitize_filename(filename: str) -> str:
    """A storage-safe version of an uploaded file's name (ASCII, no paths, ≤120 chars).

    ``"../../My Holiday (1).MOV"`` becomes ``"My_Holiday_1.mov"``; a name with
    nothing usable left becomes ``"video"`` plus its extension.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = re.sub(r"[^A-Za-z0-9]", "", ext).lower()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")
    stem = re.sub(r"_+", "_", stem) or "video"
    stem = stem[: MAX_FILENAME_CHARS - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


def check_video_file_type(filename: str, content_type: str = "") -> None:
    """Refuse a file that is not offered as a video: neither a ``video/*`` media type
    nor a video file extension (``VIDEO_EXTENSIONS``)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if media_type.startswith("video/") or extension in VIDEO_EXTENSIONS:
        return
    kinds = ", ".join(e.upper() for e in VIDEO_EXTENSIONS[:6])
    raise ValidationError(
        {
            "file": ValidationError(
                _(
                    "This is not a video file (%(media_type)s, “.%(extension)s”): choose a "
                    "video such as %(kinds)s."
                )
                % {
                    "media_type": media_type or _("no media type"),
                    "extension": extension or "?",
                    "kinds": kinds,
                },
                code="file_type",
            )
        }
    )


def source_key_for(asset: VideoAsset, filename: str) -> str:
    return school_storage_key(
        asset.school_id, "videos", str(asset.uuid), "source", sanitize_filename(filename)
    )


def _check_size_limits(
    *, school: School, size: int, exclude: VideoAsset | None = None, field: str = "file"
) -> None:
    plan = school.plan
    if plan.max_upload_bytes is not None and size > plan.max_upload_bytes:
        raise ValidationError(
            {
                field: ValidationError(
                    _(
                        "This video is %(size)s; your plan (%(plan)s) accepts videos "
                        "up to %(limit)s."
                    )
                    % {"size": _mb(size), "plan": plan.name, "limit": _mb(plan.max_upload_bytes)},
                    code=PLAN_LIMIT,
                )
            }
        )
    if plan.max_storage_bytes is not None:
        used = storage_used_bytes(school=school, exclude=exclude)
        if used + size > plan.max_storage_bytes:
            free = max(0, plan.max_storage_bytes - used)
            raise ValidationError(
                {
                    field: ValidationError(
                        _(
                            "Not enough storage left: this video is %(size)s and your plan "
                            "(%(plan)s) has %(free)s free of %(total)s. "
                            "Delete videos or files you no longer need, or upgrade your plan."
                        )
                        % {
                            "size": _mb(size),
                            "plan": plan.name,
                            "free": _mb(free),
                            "total": _mb(plan.max_storage_bytes),
                        },
                        code=PLAN_LIMIT,
                    )
                }
            )


# --- assets ----------------------------------------------------------------------------


def create_asset(
    *,
    school: School,
    actor: Any,
    filename: str,
    size: int,
    title: str = "",
    content_type: str = "",
) -> VideoAsset:
    """Reserve an asset for an upload of ``size`` bytes; status UPLOADING.

    Refused (``ValidationError``, nothing created): no file name, a name or title with
    control characters, a long title, a file that is not offered as a video
    (``check_video_file_type``), a size over the plan's limits (code ``PLAN_LIMIT``)."""
    permissions.require_school_manager(
        school, actor, message="Only the school's owner and instructors can manage videos."
    )
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ValidationError({"file": _("The file is empty.")})
    # Browsers may send a path ("C:\\fakepath\\clip.mp4"); keep the last component.
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not filename:
        raise ValidationError({"file": _("The file has no name.")})
    validate_single_line(filename, field="file")
    check_video_file_type(filename, content_type)
    title = (title or "").strip()
    if len(title) > 200:
        raise ValidationError({"title": _("Use at most %(count)s characters.") % {"count": 200}})
    validate_single_line(title, field="title")
    with transaction.atomic():
        _check_size_limits(school=school, size=size)
        asset = VideoAsset(
            school=school,
            title=title or filename.rsplit(".", 1)[0][:200],
            original_filename=filename[:255],
            status=VideoAsset.Status.UPLOADING,
            declared_size=size,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        asset.source_key = source_key_for(asset, filename)
        asset.hls_prefix = school_storage_key(school.pk, "videos", str(asset.uuid), "hls") + "/"
        asset.save()
        record_audit(
            school=school,
            actor=actor,
            action="video.created",
            target=asset,
            data={"filename": asset.original_filename, "size": size},
        )
    return asset


def start_processing(*, school: School, asset: VideoAsset) -> None:
    """The source of ``asset`` is completely in storage: check it and queue the transcode.

    Called by the upload layer. Re-checks the plan's upload and storage limits with
    the real size; over a limit the asset is marked FAILED (the message says why),
    its source is removed, and ``ValidationError`` is raised with the same message.
    Calling it again for an asset already queued or processing does nothing.
    """
    permissions.require_in_school(school, asset)
    asset.refresh_from_db()
    if asset.status in ACTIVE_STATUSES:
        return
    if asset.status == VideoAsset.Status.READY:
        raise ValidationError({"file": _("This video has already been processed.")})
    if not asset.source_key or not default_storage.exists(asset.source_key):
        raise ValidationError({"file": _("The upload is not complete yet: its file is missing.")})
    size = int(default_storage.size(asset.source_key))
    try:
        _check_size_limits(school=school, size=size, exclude=asset)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        with transaction.atomic():
            VideoAsset.objects.filter(school=school, pk=asset.pk).update(
                uploaded_bytes=size, source_bytes=0
            )
            mark_failed(school=school, asset=asset, message=message)
            key = asset.source_key
            transaction.on_commit(lambda: default_storage.delete(key))
        raise
    if size <= 0:
        mark_failed(school=school, asset=asset, message="The uploaded file is empty.")
        raise ValidationError({"file": "The uploaded file is empty."})
    with transaction.atomic():
        VideoAsset.objects.filter(school=school, pk=asset.pk).update(
            status=VideoAsset.Status.QUEUED,
            source_bytes=size,
            uploaded_bytes=size,
            error_message="",
            progress_percent=0,
            eta_seconds=None,
            attempts=0,
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            multipart_upload_id="",
            updated_at=timezone.now(),
        )
        asset.refresh_from_db()
        enqueue_transcode(school=school, asset=asset)


def retry_processing(*, school: School, actor: Any, asset: VideoAsset) -> None:
    """Queue a failed (or ready) asset again, for an instructor's "try again" button."""
    permissions.require_video_manager(school, actor, asset)
    if asset.status not in (VideoAsset.Status.FAILED, VideoAsset.Status.READY):
        raise ValidationError({"file": _("This video is not finished processing yet.")})
    if not asset.source_key or not default_storage.exists(asset.source_key):
        raise ValidationError({"file": _("The original upload is gone; upload the video again.")})
    with transaction.atomic():
        VideoAsset.objects.filter(school=school, pk=asset.pk).update(
            status=VideoAsset.Status.QUEUED,
            error_message="",
            progress_percent=0,
            eta_seconds=None,
            attempts=0,
            heartbeat_at=None,
            updated_at=timezone.now(),
        )
        record_audit(school=school, actor=actor, action="video.reprocessed", target=asset)
        enqueue_transcode(school=school, asset=asset)
    asset.refresh_from_db()


def delete_asset(*, school: School, actor: Any, asset: VideoAsset) -> None:
    """Delete a video: cancel its job, detach it from lessons, remove all its files.

    A running transcode notices at its next heartbeat (every ~2 s) that the row is
    gone, kills ffmpeg, cleans its temp dir and removes anything it uploaded.
    """
    permissions.require_video_manager(school, actor, asset)
    prefix = asset.storage_prefix
    upload_id = asset.multipart_upload_id
    source_key = asset.source_key
    was = asset.status
    with transaction.atomic():
        record_audit(
            school=school,
            actor=actor,
            action="video.deleted",
            target=asset,
            data={
                "title": asset.title,
                "status": was,
                "bytes": asset.bytes_stored,
                "cancelled_job": was in ACTIVE_STATUSES,
            },
        )
        asset.delete()

        def cleanup() -> None:
            if upload_id:
                _abort_multipart(source_key, upload_id)
            try:
                delete_storage_prefix(prefix)
            except Exception:
                logger.exception("could not delete video files under %s", prefix)

        transaction.on_commit(cleanup)


def _abort_multipart(key: str, upload_id: str) -> None:
    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        return
    try:
        name = default_storage._normalize_name(key)  # type: ignore[attr-defined]
        bucket.meta.client.abort_multipart_upload(Bucket=bucket.name, Key=name, UploadId=upload_id)
    except Exception:
        logger.info("multipart upload %s already gone", upload_id)


def attach_video_to_lesson(
    *, school: School, actor: Any, lesson: Lesson, asset: VideoAsset | None
) -> Lesson:
    """Make ``asset`` the video of ``lesson`` (None detaches it)."""
    permissions.require_in_school(school, lesson, *([asset] if asset is not None else []))
    permissions.require_course_manager(school, actor, lesson.course)
    with transaction.atomic():
        lesson.video = asset
        fields = ["video", "updated_at"]
        if asset is not None:
            if lesson.kind != lesson.Kind.VIDEO:
                lesson.kind = lesson.Kind.VIDEO
                fields.append("kind")
            if asset.duration_seconds and not lesson.duration_minutes:
                lesson.duration_minutes = max(1, round(asset.duration_seconds / 60))
                fields.append("duration_minutes")
        lesson.save(update_fields=fields)
        record_audit(
            school=school,
            actor=actor,
            action="lesson.video_attached" if asset is not None else "lesson.video_detached",
            target=lesson,
            data={"video": str(asset.uuid) if asset is not None else None},
        )
    return lesson
