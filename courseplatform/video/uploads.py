"""Getting a video's source file into storage: resumable uploads.

Two transports, picked by the storage backend (``upload_mode()``):

* **Local storage** (``FileSystemStorage``, the embedded default): a subset of the
  tus 1.0 protocol (core + creation + termination). The browser creates an upload
  (``tus_create``), then PATCHes byte ranges that ``tus_append`` streams straight to
  the source file at ``FileSystemStorage.path(asset.source_key)`` in small reads: a
  request body is never held in memory. The file's length on disk is the upload
  offset, so an interrupted PATCH keeps every byte that arrived and the client
  resumes from there (HEAD).
* **S3/R2** (``S3Storage``): direct browser-to-bucket multipart upload. The app
  creates the multipart upload (``s3_create``), hands out short-lived presigned
  ``UploadPart`` URLs (``s3_sign_part``), lists parts for resuming
  (``s3_list_parts``), and completes (``s3_complete``) or aborts (``s3_abort``) it.
  The bytes never pass through the app. Each part URL is signed for the exact part
  length the agreed part size implies (``part_size``), so a browser cannot put more
  bytes into the bucket than the size it declared (and the quota reserved).

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
import math
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

MiB = 1024 * 1024
S3_MIN_PART_BYTES = 5 * MiB
S3_MAX_PARTS = 10_000
# Part size for multipart uploads: 8 MiB, or more for files that would otherwise need
# more than 10,000 parts. The browser computes the same (frontend/src/js/uploader.js).
S3_PART_BYTES = 8 * MiB
PRESIGNED_PART_SECONDS = 15 * 60


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
        raise UploadError("Only the person who started this upload can continue it.", status=403)
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


def _create(
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
        raise UploadError("The upload must declare its size in bytes.")
    if size == 0:
        raise UploadError("The file is empty: choose a video file.")
    filename = (filename or "").strip()
    if not filename:
        raise UploadError("The upload has no file name.")
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
    asset = _create(
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
            asset.error_message or "This upload failed; choose the file again.", status=410
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
        raise UploadError("This upload no longer exists.", status=410) from exc
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadError(
                "Another request is writing to this upload; retry in a moment.", status=423
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
        raise UploadError("This upload is already complete.", status=409, offset=tus_offset(asset))
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
            "This upload is complete; delete the video from the video library instead.",
            status=403,
        )
    if not permissions.can_manage_video(actor, asset):
        raise UploadError("Only the person who started this upload can cancel it.", status=403)
    services.delete_asset(school=school, actor=actor, asset=asset)


# --- S3 / R2 multipart -------------------------------------------------------------------


def part_size(size: int) -> int:
    """Bytes per part for a file of ``size``: S3_PART_BYTES, grown (in whole MiB) so no
    file needs more than S3_MAX_PARTS parts. Mirrors ``partSize`` in uploader.js."""
    needed = math.ceil(size / S3_MAX_PARTS / MiB) * MiB
    return max(S3_PART_BYTES, needed)


def part_count(size: int) -> int:
    return max(1, math.ceil(size / part_size(size)))


def expected_part_length(size: int, part_number: int) -> int:
    chunk = part_size(size)
    return min(chunk, size - (part_number - 1) * chunk)


def _s3_client() -> Any:
    return default_storage.connection.meta.client  # type: ignore[attr-defined]


def _s3_bucket() -> str:
    return str(default_storage.bucket_name)  # type: ignore[attr-defined]


def _s3_key(asset: VideoAsset) -> str:
    """The object key of the source (the storage's ``location`` prefix applied)."""
    return str(default_storage._normalize_name(asset.source_key))  # type: ignore[attr-defined]


def _require_multipart(asset: VideoAsset) -> str:
    if asset.status != VideoAsset.Status.UPLOADING or not asset.multipart_upload_id:
        raise UploadError("This upload is finished or was cancelled.", status=409)
    return asset.multipart_upload_id


def s3_create(
    *,
    school: School,
    actor: User,
    filename: str,
    size: Any,
    content_type: str = "",
    lesson_id: Any = None,
    title: str = "",
) -> VideoAsset:
    """CreateMultipartUpload for a new asset at its ``source_key``."""
    require_mode("s3")
    lesson_for_upload(school=school, actor=actor, lesson_id=lesson_id)
    asset = _create(
        school=school,
        actor=actor,
        filename=filename,
        size=size,
        title=title,
        content_type=content_type,
    )
    params: dict[str, Any] = {"Bucket": _s3_bucket(), "Key": _s3_key(asset)}
    if content_type.startswith("video/") and len(content_type) < 100:
        params["ContentType"] = content_type
    try:
        response = _s3_client().create_multipart_upload(**params)
    except Exception as exc:
        logger.exception("CreateMultipartUpload failed for asset %s", asset.pk)
        VideoAsset.objects.filter(school=school, pk=asset.pk).delete()
        raise UploadError(
            "The video storage did not accept the upload; try again in a minute.", status=502
        ) from exc
    asset.multipart_upload_id = response["UploadId"]
    asset.save(update_fields=["multipart_upload_id", "updated_at"])
    return asset


def s3_sign_part(*, school: School, asset: VideoAsset, part_number: int) -> dict[str, Any]:
    """A presigned UploadPart URL, valid PRESIGNED_PART_SECONDS, for one part of the
    agreed size (the signature covers Content-Length)."""
    require_mode("s3")
    upload_id = _require_multipart(asset)
    count = part_count(asset.declared_size)
    if not 1 <= part_number <= count:
        raise UploadError(f"Part numbers of this upload run from 1 to {count}.", status=400)
    length = expected_part_length(asset.declared_size, part_number)
    url = _s3_client().generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": _s3_bucket(),
            "Key": _s3_key(asset),
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ContentLength": length,
        },
        ExpiresIn=PRESIGNED_PART_SECONDS,
        HttpMethod="PUT",
    )
    return {"url": url, "method": "PUT", "expires": PRESIGNED_PART_SECONDS, "size": length}


def s3_list_parts(*, school: School, asset: VideoAsset) -> list[dict[str, Any]]:
    """Parts already in the bucket (for resuming): PartNumber, Size, ETag."""
    require_mode("s3")
    upload_id = _require_multipart(asset)
    client = _s3_client()
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        try:
            page = client.list_parts(
                Bucket=_s3_bucket(),
                Key=_s3_key(asset),
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
        except client.exceptions.NoSuchUpload as exc:
            raise UploadError("This upload was cancelled; start it again.", status=410) from exc
        parts += [
            {"PartNumber": p["PartNumber"], "Size": p["Size"], "ETag": p["ETag"]}
            for p in page.get("Parts", [])
        ]
        if not page.get("IsTruncated"):
            return parts
        marker = int(page["NextPartNumberMarker"])


def s3_complete(
    *, school: School, actor: User, asset: VideoAsset, lesson: Lesson | None = None
) -> VideoAsset:
    """CompleteMultipartUpload with the parts the bucket holds, after checking they
    cover the declared size exactly; HeadObject for the real size; then processing."""
    require_mode("s3")
    if asset.status != VideoAsset.Status.UPLOADING:
        if asset.status == VideoAsset.Status.FAILED:
            raise UploadError(asset.error_message or "This upload failed.", status=410)
        return asset  # completed already (a retried request): nothing to do
    upload_id = _require_multipart(asset)
    parts = s3_list_parts(school=school, asset=asset)
    numbers = [p["PartNumber"] for p in parts]
    received = sum(int(p["Size"]) for p in parts)
    if numbers != list(range(1, len(parts) + 1)) or received != asset.declared_size:
        raise UploadError(
            f"The upload is not complete: {received} of {asset.declared_size} bytes arrived. "
            "Resume it to send the rest.",
            status=409,
        )
    client = _s3_client()
    key = _s3_key(asset)
    try:
        client.complete_multipart_upload(
            Bucket=_s3_bucket(),
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
            },
        )
    except client.exceptions.NoSuchUpload as exc:
        asset.refresh_from_db()
        if asset.status != VideoAsset.Status.UPLOADING:
            return asset  # a concurrent request completed it
        raise UploadError("This upload was cancelled; start it again.", status=410) from exc
    size = int(client.head_object(Bucket=_s3_bucket(), Key=key)["ContentLength"])
    VideoAsset.objects.filter(school=school, pk=asset.pk).update(
        uploaded_bytes=size, updated_at=timezone.now()
    )
    finish_upload(school=school, actor=actor, asset=asset, lesson=lesson)
    return asset


def s3_abort(*, school: School, actor: User, asset: VideoAsset) -> None:
    """AbortMultipartUpload and delete the unfinished asset (``services.delete_asset``
    aborts the multipart upload and removes whatever is under the asset's prefix)."""
    require_mode("s3")
    if asset.status not in (VideoAsset.Status.UPLOADING, VideoAsset.Status.FAILED):
        raise UploadError(
            "This upload is complete; delete the video from the video library instead.",
            status=403,
        )
    if not permissions.can_manage_video(actor, asset):
        raise UploadError("Only the person who started this upload can cancel it.", status=403)
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
