"""Videos: status, list and delete, through ``video`` selectors and services."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from courseplatform.video import selectors, services
from courseplatform.video.models import VideoAsset
from courseplatform.video.uploads import get_asset

from ..guard import read_auth, write_auth
from ..pagination import paginate
from .common import ERRORS, ListParams, actor, school

router = Router(tags=["videos"])


class VideoOut(Schema):
    id: int
    uuid: str
    title: str
    original_filename: str
    status: str
    error_message: str
    progress_percent: int
    declared_size: int
    uploaded_bytes: int
    duration_seconds: float | None
    width: int | None
    height: int | None
    created_at: datetime
    updated_at: datetime


class VideoList(Schema):
    data: list[VideoOut]
    next: str | None


def _video_out(asset: VideoAsset) -> dict[str, object]:
    return {
        **{name: getattr(asset, name) for name in VideoOut.model_fields},
        "id": asset.pk,
        "uuid": str(asset.uuid),
    }


@router.get("/videos", response={200: VideoList, **ERRORS}, auth=read_auth)
def list_videos(
    request: HttpRequest,
    params: Query[ListParams],
    status: str | None = Query(None, pattern="^(uploading|queued|processing|ready|failed)$"),  # type: ignore[type-arg]
    updated_since: datetime | None = None,
) -> dict[str, object]:
    """The school's videos with their processing status."""
    queryset = selectors.videos_of_school(school=school(request))
    if status:
        queryset = queryset.filter(status=status)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    rows, next_url = paginate(
        request, queryset, resource="videos", cursor=params.cursor, limit=params.limit
    )
    return {"data": [_video_out(v) for v in rows], "next": next_url}


@router.get("/videos/{video_id}", response={200: VideoOut, **ERRORS}, auth=read_auth)
def get_video(request: HttpRequest, video_id: int) -> dict[str, object]:
    """One video: poll `status` and `progress_percent` while it is processed."""
    return _video_out(get_asset(school=school(request), asset_id=video_id))


@router.delete("/videos/{video_id}", response={204: None, **ERRORS}, auth=write_auth)
def delete_video(request: HttpRequest, video_id: int) -> Status[None]:
    """Delete a video: its job is cancelled, lessons lose it, its files are removed."""
    services.delete_asset(
        school=school(request),
        actor=actor(request),
        asset=get_asset(school=school(request), asset_id=video_id),
    )
    return Status(204, None)
