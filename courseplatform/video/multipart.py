"""Direct browser-to-bucket multipart uploads on S3/R2 (``uploads.upload_mode()`` is
``"s3"``): the app creates the multipart upload, hands out short-lived presigned
``UploadPart`` URLs each signed for the exact part length the agreed part size implies
(so a browser cannot put more bytes into the bucket than it declared and the quota
reserved), lists parts for resuming, and completes or aborts it. The bytes never pass
through the app. The transport-independent steps (creating the asset, finishing the
upload, lookups, ``UploadError``) are ``uploads``'s.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.tenancy.models import School

from . import services
from .models import VideoAsset
from .uploads import (
    UploadError,
    create_upload_asset,
    finish_upload,
    lesson_for_upload,
    require_mode,
)

if TYPE_CHECKING:
    from courseplatform.accounts.models import User
    from courseplatform.courses.models import Lesson

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
S3_MIN_PART_BYTES = 5 * MiB
S3_MAX_PARTS = 10_000
# Part size for multipart uploads: 8 MiB, or more for files that would otherwise need
# more than 10,000 parts. The browser computes the same (frontend/src/js/uploader.js).
S3_PART_BYTES = 8 * MiB
PRESIGNED_PART_SECONDS = 15 * 60


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
        raise UploadError(_("This upload is finished or was cancelled."), status=409)
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
    asset = create_upload_asset(
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
            _("The video storage did not accept the upload; try again in a minute."), status=502
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
            raise UploadError(_("This upload was cancelled; start it again."), status=410) from exc
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
            raise UploadError(asset.error_message or _("This upload failed."), status=410)
        return asset  # completed already (a retried request): nothing to do
    upload_id = _require_multipart(asset)
    parts = s3_list_parts(school=school, asset=asset)
    numbers = [p["PartNumber"] for p in parts]
    received = sum(int(p["Size"]) for p in parts)
    if numbers != list(range(1, len(parts) + 1)) or received != asset.declared_size:
        raise UploadError(
            _(
                "The upload is not complete: %(received)s of %(size)s bytes arrived. "
                "Resume it to send the rest."
            )
            % {"received": received, "size": asset.declared_size},
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
        raise UploadError(_("This upload was cancelled; start it again."), status=410) from exc
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
            _("This upload is complete; delete the video from the video library instead."),
            status=403,
        )
    if not permissions.can_manage_video(actor, asset):
        raise UploadError(_("Only the person who started this upload can cancel it."), status=403)
    services.delete_asset(school=school, actor=actor, asset=asset)
