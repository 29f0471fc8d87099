"""Getting a video's source file into storage: resumable uploads.

Two transports, picked by the storage backend (``upload_mode()``):

* **Local storage** (``FileSystemStorage``, the embedded default): a subset of the
  tus 1.0 protocol (core + creation + termination). The browser creates an upload
  (``tus_create``), then PATCHes byte ranges that ``tus_append`` streams straight to
  the source file at ``FileSystemStorage.path(asset.source_key)`` in small reads: a
  request body is never held in memory. The file's length on disk is the upload
  offset, so an interrupted PATCH keeps every byte that arrived and the client
  resumes from there (HEAD).
* **S3/R2** (``S3Storage``): direct browser-to-bucket multipart upload, in
  ``multipart.py`` (``s3_create``, presigned parts, ``s3_complete``). The bytes never
  pass through the app.

Either way the source key is the asset's ``source_key`` (see the storage layout in
``video/models.py``), the plan's size and storage limits are checked when the upload
is created (``services.create_asset``: nothing is created when they fail) and again
with the real size when it completes (``services.start_processing``), and a finished
upload queues the transcode and, when it came from a lesson editor, becomes that
lesson's video.

Every function takes the school first; lookups by id or uuid raise ``Http404`` alike
for a missing upload and another school's.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.telemetry import metrics
from courseplatform.tenancy.models import School

from . import services
from .models import VideoAsset

if TYPE_CHECKING:
    from courseplatform.accounts.models import User
    from courseplatform.courses.models import Lesson

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
TUS_CONTENT_TYPE = "application/offset+octet-stream"
# Bytes read from the request per loop: the only request data held in memory at once.
READ_CHUNK_BYTES = 1024 * 1024
# How often a running PATCH records its progress in the database (for the library page).
PROGRESS_SAVE_SECONDS = 2.0


class UploadError(Exception):
    """An upload request that cannot be served; ``status`` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.offset = offset


# --- mode and lookups --------------------------------------------------------------------


def upload_mode() -> Literal["s3", "tus"]:
    """``"s3"`` when default storage is a bucket, ``"tus"`` for local disk."""
    return "s3" if hasattr(default_storage, "bucket_name") else "tus"


def require_mode(mode: str) -> None:
    if upload_mode() != mode:
        # The other transport does not exist on this deployment.
        raise Http404("This upload method is not used here.")


def get_asset(*, school: School, asset_id: int) -> VideoAsset:
    asset = VideoAsset.objects.filter(school=school, pk=asset_id).first()
    if asset is None:
        raise Http404("No such video.")
    return asset


def get_upload(*, school: School, actor: User, upload_id: uuid.UUID | str) -> VideoAsset:
    """The asset behind an upload URL: 404 for unknown ids and other schools' uploads,
    403 (``UploadError``) unless ``actor`` manages the video (its uploader or the owner)."""
    try:
        key = uuid.UUID(str(upload_id))
    except ValueError as exc:
        raise Http404("No such upload.") from exc
    asset = VideoAsset.objects.filter(school=school, uuid=key).first()
    if asset is None:
        raise Http404("No such upload.")
    if not permissions.can_manage_video(actor, asset):
        raise UploadError(_("Only the person who started this upload can continue it."), status=403)
    return asset


def lesson_for_upload(*, school: School, actor: User, lesson_id: Any) -> Lesson | None:
    """The lesson an upload was started from (None when none was named); 404 when the
    id is not a lesson of this school that ``actor`` may edit."""
    if lesson_id in (None, ""):
        return None
    from courseplatform.courses.selectors import get_lesson_for_manager

    try:
        pk = int(str(lesson_id))
    except ValueError as exc:
        raise Http404("No such lesson.") from exc
    return get_lesson_for_manager(school=school, user=actor, lesson_id=pk)


def _validation_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def create_upload_asset(
    *,
    school: School,
    actor: User,
    filename: str,
    size: Any,
    title: str = "",
    content_type: str = "",
) -> VideoAsset:
    """``services.create_asset`` with the answers an uploader needs: 400 for a bad
    request (no name, not a video file), 413 (and nothing created) when the plan's
    limits refuse the size."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UploadError(_("The upload must declare its size in bytes."))
    if size == 0:
        raise UploadError(_("The file is empty: choose a video file."))
    filename = (filename or "").strip()
    if not filename:
        raise UploadError(_("The upload has no file name."))
    try:
        return services.create_asset(
            school=school,
            actor=actor,
            filename=filename,
            size=size,
            title=title,
            content_type=content_type,
        )
    except ValidationError as exc:
        over_limit = any(error.code == services.PLAN_LIMIT for error in _error_list(exc))
        raise UploadError(_validation_message(exc), status=413 if over_limit else 400) from exc


def _error_list(exc: ValidationError) -> list[ValidationError]:
    if hasattr(exc, "error_dict"):
        return [error for errors in exc.error_dict.values() for error in errors]
    return list(exc.error_list)


def finish_upload(*, school: School, actor: User, asset: VideoAsset, lesson: Lesson | None) -> None:
    """The source is complete in storage: queue processing, then attach it to the lesson.

    Over the plan's limits (checked again with the real size) the asset is marked
    failed with the reason and ``UploadError(413)`` is raised.
    """
    try:
        services.start_processing(school=school, asset=asset)
    except ValidationError as exc:
        asset.refresh_from_db()
        status = 413 if asset.status == VideoAsset.Status.FAILED else 409
        raise UploadError(_validation_message(exc), status=status) from exc
    asset.refresh_from_db()
    metrics.UPLOAD_BYTES.labels("video").inc(asset.uploaded_bytes)
    if lesson is not None:
        try:
            services.attach_video_to_lesson(school=school, actor=actor, lesson=lesson, asset=asset)
        except PermissionDenied:
            logger.info("upload %s done; lesson %s is no longer editable", asset.pk, lesson.pk)


# --- tus (local storage) -----------------------------------------------------------------


def parse_tus_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: filename ZmlsZS5tcDQ=,lesson MTI=`` → ``{"filename": "file.mp4", …}``.

    Values are base64; a key may come without a value. Malformed input → UploadError.
    """
    result: dict[str, str] = {}
    if not header.strip():
        return result
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2:
            raise UploadError("Upload-Metadata is malformed.")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise UploadError("Upload-Metadata is not valid base64.") from exc
        result[parts[0]] = value
    return result


def local_source_path(asset: VideoAsset) -> Path:
    """Where the source of ``asset`` lives on local disk (FileSystemStorage only)."""
    if not asset.source_key:
        raise Http404("No such upload.")
    try:
        return Path(default_storage.path(asset.source_key))
    except NotImplementedError as exc:  # object storage (S3Storage.path raises)
        raise Http404("No such upload.") from exc


def tus_create(
    *, school: School, actor: User, size: Any, metadata: dict[str, str]
) -> tuple[VideoAsset, Lesson | None]:
    """Creation: reserve the asset (quota checked) and an empty source file."""
    require_mode("tus")
    lesson = lesson_for_upload(school=school, actor=actor, lesson_id=metadata.get("lesson"))
    asset = tus_reserve(
        school=school,
        actor=actor,
        filename=metadata.get("filename") or metadata.get("name") or "",
        size=size,
        content_type=metadata.get("filetype") or metadata.get("type") or "",
    )
    return asset, lesson


def tus_reserve(
    *,
    school: School,
    actor: User,
    filename: str,
    size: Any,
    content_type: str = "",
    title: str = "",
) -> VideoAsset:
    asset = create_upload_asset(
        school=school,
        actor=actor,
        filename=filename,
        size=size,
        title=title,
        content_type=content_type,
    )
    path = local_source_path(asset)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=False)
    return asset


def tus_offset(asset: VideoAsset) -> int:
    """Bytes received so far: the source file's length (the declared size once done)."""
    if asset.status != VideoAsset.Status.UPLOADING:
        return asset.declared_size
    try:
        return local_source_path(asset).stat().st_size
    except FileNotFoundError:
        return 0


def tus_check_alive(asset: VideoAsset) -> None:
    """HEAD/PATCH on an upload that can no longer take bytes answer 410 Gone, so the
    client forgets it and starts a new upload when the file is chosen again."""
    if asset.status == VideoAsset.Status.FAILED:
        raise UploadError(
            asset.error_message or _("This upload failed; choose the file again."), status=410
        )


@contextlib.contextmanager
def _locked_source(asset: VideoAsset) -> Iterator[IO[bytes]]:
    """The source file opened for writing, exclusively: a second PATCH on the same
    upload while one is running is refused (423, the client retries) instead of
    interleaving bytes."""
    path = local_source_path(asset)
    try:
        handle = path.open("r+b")
    except FileNotFoundError as exc:
        raise UploadError(_("This upload no longer exists."), status=410) from exc
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadError(
                _("Another request is writing to this upload; retry in a moment."), status=423
            ) from exc
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class AppendResult:
    offset: int
    complete: bool
    interrupted: bool = False


def _save_progress(school: School, asset: VideoAsset, offset: int) -> None:
    VideoAsset.objects.filter(
        school=school, pk=asset.pk, status=VideoAsset.Status.UPLOADING
    ).update(uploaded_bytes=offset, updated_at=timezone.now())


def tus_append(
    *,
    school: School,
    actor: User,
    asset: VideoAsset,
    offset: int,
    content_length: int,
    read: Callable[[int], bytes],
    lesson: Lesson | None = None,
) -> AppendResult:
    """Core PATCH: write ``content_length`` bytes from ``read`` at ``offset``.

    ``read(n)`` returns at most ``n`` bytes (``request.read``); it is called with at
    most ``READ_CHUNK_BYTES`` so memory stays flat whatever the body size. A wrong
    offset is 409 (with the real one), a body that would run past the declared length
    413. A client that goes away mid-body keeps what arrived. When the last byte is
    written the upload is finished (``finish_upload``).
    """
    require_mode("tus")
    tus_check_alive(asset)
    if asset.status != VideoAsset.Status.UPLOADING:
        raise UploadError(
            _("This upload is already complete."), status=409, offset=tus_offset(asset)
        )
    length = asset.declared_size
    if offset + content_length > length:
        raise UploadError(
            f"The upload is {length} bytes long; {content_length} bytes at offset {offset} "
            "would run past its end.",
            status=413,
        )
    with _locked_source(asset) as handle:
        current = os.fstat(handle.fileno()).st_size
        if current != offset:
            raise UploadError(
                f"Upload-Offset {offset} does not match the {current} bytes received.",
                status=409,
                offset=current,
            )
        handle.seek(offset)
        remaining = content_length
        written = offset
        interrupted = False
        last_save = time.monotonic()
        try:
            while remaining > 0:
                data = read(min(READ_CHUNK_BYTES, remaining))
                if not data:
                    interrupted = True
                    break
                handle.write(data)
                written += len(data)
                remaining -= len(data)
                if time.monotonic() - last_save >= PROGRESS_SAVE_SECONDS:
                    handle.flush()
                    _save_progress(school, asset, written)
                    last_save = time.monotonic()
        except OSError:
            # The connection broke (reset, timeout): keep every byte that arrived.
            interrupted = True
            logger.info("upload %s interrupted at %s of %s bytes", asset.pk, written, length)
        finally:
            handle.flush()
            os.fsync(handle.fileno())
    _save_progress(school, asset, written)
    complete = not interrupted and written == length
    if complete:
        finish_upload(school=school, actor=actor, asset=asset, lesson=lesson)
    return AppendResult(offset=written, complete=complete, interrupted=interrupted)


def tus_terminate(*, school: School, actor: User, asset: VideoAsset) -> None:
    """Termination: an unfinished upload is deleted with its bytes. A finished one is a
    video in the library and is deleted there, not through the uploader."""
    require_mode("tus")
    if asset.status not in (VideoAsset.Status.UPLOADING, VideoAsset.Status.FAILED):
        raise UploadError(
            _("This upload is complete; delete the video from the video library instead."),
            status=403,
        )
    if not permissions.can_manage_video(actor, asset):
        raise UploadError(_("Only the person who started this upload can cancel it."), status=403)
    services.delete_asset(school=school, actor=actor, asset=asset)


# --- housekeeping ------------------------------------------------------------------------


def expire_abandoned_uploads(*, school: School, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete uploads of ``school`` that were started but not touched for ``older_than``
    (their reserved quota and partial bytes go). Returns how many were removed."""
    cutoff = timezone.now() - older_than
    stale = list(
        VideoAsset.objects.filter(
            school=school, status=VideoAsset.Status.UPLOADING, updated_at__lt=cutoff
        )
    )
    actor = _SystemActor(school)
    for asset in stale:
        services.delete_asset(school=school, actor=actor, asset=asset)
    return len(stale)


class _SystemActor:
    """The platform itself, acting for a school (audited with no actor)."""

    pk = None
    is_authenticated = True
    is_active = True
    role = "owner"

    def __init__(self, school: School) -> None:
        self.school_id = school.pk
