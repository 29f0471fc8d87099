"""Videos that arrive in a course archive (portability.course_archive imports them).

The archive's files are already stored under the new asset's prefix
(``schools/<id>/videos/<uuid>/``) when these run; they create the rows:

* with renditions: a READY asset and its ``Rendition`` rows (the segments' AES key,
  from the archive, encrypted at rest like the pipeline's own);
* with only the source: an UPLOADING asset; ``services.start_processing`` then checks
  the plan and queues the transcode as for any upload;
* with neither: a FAILED asset that keeps the title and duration and says "upload it
  again", so the lesson shows the gap instead of silently losing its video.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from courseplatform.accounts import permissions
from courseplatform.ops import crypto
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

from .models import Rendition, VideoAsset

MISSING_MESSAGE = (
    "Video missing: it was not included in the course archive this course was imported "
    "from. Upload it again."
)


@dataclass(frozen=True)
class ImportedRendition:
    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    frame_rate: float
    segment_count: int
    bytes: int


@dataclass(frozen=True)
class ImportedVideo:
    """What the archive says of one video, and where its files were stored."""

    uuid: uuid.UUID
    title: str
    original_filename: str
    duration_seconds: float | None
    width: int | None
    height: int | None
    frame_rate: float | None
    has_audio: bool
    source_key: str = ""
    source_bytes: int = 0
    key: bytes = b""  # AES-128 key of the segments (with renditions)
    poster_key: str = ""
    output_bytes: int = 0  # renditions, playlists and poster
    renditions: tuple[ImportedRendition, ...] = ()


def storage_prefix_for(school: School, asset_uuid: uuid.UUID) -> str:
    return school_storage_key(school.pk, "videos", str(asset_uuid)) + "/"


def create_imported_asset(*, school: School, actor: Any, video: ImportedVideo) -> VideoAsset:
    """The asset row (and renditions) of one imported video; see the module doc."""
    permissions.require_school_manager(
        school, actor, message="Only the school's owner and instructors can manage videos."
    )
    prefix = storage_prefix_for(school, video.uuid)
    with_hls = bool(video.renditions and video.key)
    if with_hls:
        status = VideoAsset.Status.READY
    elif video.source_key:
        status = VideoAsset.Status.UPLOADING
    else:
        status = VideoAsset.Status.FAILED
    now = timezone.now()
    with transaction.atomic():
        asset = VideoAsset.objects.create(
            school=school,
            uuid=video.uuid,
            title=video.title[:200],
            original_filename=video.original_filename[:255],
            status=status,
            error_message="" if status != VideoAsset.Status.FAILED else MISSING_MESSAGE,
            source_key=video.source_key,
            declared_size=video.source_bytes,
            uploaded_bytes=video.source_bytes,
            source_bytes=video.source_bytes if with_hls else 0,
            duration_seconds=video.duration_seconds,
            width=video.width,
            height=video.height,
            frame_rate=video.frame_rate,
            has_audio=video.has_audio,
            hls_prefix=f"{prefix}hls/",
            poster_key=video.poster_key if with_hls else "",
            encryption_key_ciphertext=crypto.encrypt(video.key) if with_hls else "",
            output_bytes=video.output_bytes if with_hls else 0,
            progress_percent=100 if with_hls else 0,
            finished_at=now if status != VideoAsset.Status.UPLOADING else None,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        if with_hls:
            Rendition.objects.bulk_create(
                Rendition(
                    school=school,
                    asset=asset,
                    name=r.name,
                    width=r.width,
                    height=r.height,
                    bandwidth=r.bandwidth,
                    average_bandwidth=r.average_bandwidth,
                    codecs=r.codecs,
                    frame_rate=r.frame_rate,
                    playlist_key=f"{asset.hls_prefix}{r.name}/index.m3u8",
                    segment_count=r.segment_count,
                    bytes=r.bytes,
                )
                for r in video.renditions
            )
        record_audit(
            school=school,
            actor=actor,
            action="video.imported",
            target=asset,
            data={"title": asset.title, "status": status},
        )
    return asset
