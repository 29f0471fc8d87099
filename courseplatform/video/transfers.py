"""Uploads for clients other than the browser uploader (the API): one start and one
completion whatever the deployment's transport (``uploads.upload_mode``). The bytes
themselves go where the browser's go: PUTs to presigned part URLs in the bucket (S3),
or tus PATCHes (local storage, ``views_upload.tus_answer``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from courseplatform.tenancy.models import School

from . import multipart, uploads
from .models import VideoAsset

if TYPE_CHECKING:
    from courseplatform.accounts.models import User


def start_upload(
    *,
    school: School,
    actor: User,
    filename: str,
    size: Any,
    content_type: str = "",
    title: str = "",
) -> VideoAsset:
    """Reserve an upload with this deployment's transport: a multipart upload in the
    bucket (S3), or an empty source file that tus PATCHes fill (local storage). The
    same checks as the browser uploader's (``uploads.create_upload_asset``)."""
    details: dict[str, Any] = {
        "filename": filename,
        "size": size,
        "content_type": content_type,
        "title": title,
    }
    if uploads.upload_mode() == "s3":
        return multipart.s3_create(school=school, actor=actor, **details)
    return uploads.tus_reserve(school=school, actor=actor, **details)


def complete_upload(*, school: School, actor: User, asset: VideoAsset) -> VideoAsset:
    """Finish an upload whose bytes are all in storage and queue its processing.

    S3: ``s3_complete``. tus: the last PATCH already finished the upload, so this
    checks that every byte arrived (409 with the count otherwise) and starts the
    processing only if that did not happen then. A finished upload is left as it is.
    """
    if uploads.upload_mode() == "s3":
        return multipart.s3_complete(school=school, actor=actor, asset=asset)
    uploads.tus_check_alive(asset)
    if asset.status != VideoAsset.Status.UPLOADING:
        return asset
    received = uploads.tus_offset(asset)
    if received != asset.declared_size:
        raise uploads.UploadError(
            _(
                "The upload is not complete: %(received)s of %(size)s bytes arrived. "
                "Resume it to send the rest."
            )
            % {"received": received, "size": asset.declared_size},
            status=409,
        )
    uploads.finish_upload(school=school, actor=actor, asset=asset, lesson=None)
    return asset
