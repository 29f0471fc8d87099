"""Reads of video figures: the bytes and minutes a school holds against its plan."""

from __future__ import annotations

from typing import Any

from django.db.models import Expression, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from courseplatform.tenancy.models import School
from courseplatform.tenancy.usage import figure_query

from .models import VideoAsset


def _assets(school: School, exclude: VideoAsset | None) -> QuerySet[VideoAsset]:
    assets = VideoAsset.objects.filter(school=school)
    return assets.exclude(pk=exclude.pk) if exclude is not None else assets


def _bytes_figure() -> Expression:
    # Sources + renditions of every asset, plus the declared size of uploads still in
    # flight (they are reserved against the quota).
    return Coalesce(Sum(F("source_bytes") + F("output_bytes")), 0) + Coalesce(
        Sum("declared_size", filter=Q(status=VideoAsset.Status.UPLOADING, source_bytes=0)), 0
    )


def _timed(assets: QuerySet[VideoAsset]) -> QuerySet[VideoAsset]:
    # Every probed asset that is not failed.
    return assets.filter(duration_seconds__isnull=False).exclude(status=VideoAsset.Status.FAILED)


def _minutes_figure() -> Expression:
    return Coalesce(Sum("duration_seconds"), 0.0) / 60.0


def school_video_bytes(*, school: School, exclude: VideoAsset | None = None) -> int:
    """Bytes of video a school holds: sources + renditions of every asset, plus the
    declared size of uploads still in flight (they are reserved against the quota)."""
    return int(_assets(school, exclude).aggregate(total=_bytes_figure())["total"])


def school_video_minutes(*, school: School, exclude: VideoAsset | None = None) -> float:
    """Minutes of video a school holds (every probed asset that is not failed)."""
    return float(_timed(_assets(school, exclude)).aggregate(m=_minutes_figure())["m"])


def school_video_bytes_query(school: School) -> QuerySet[VideoAsset]:
    """``school_video_bytes`` as a usage query (tenancy.usage.figure_query)."""
    return figure_query(_assets(school, None), _bytes_figure())


def school_video_minutes_query(school: School) -> QuerySet[VideoAsset]:
    """``school_video_minutes`` as a usage query."""
    return figure_query(_timed(_assets(school, None)), _minutes_figure())


def remaining_video_minutes(*, school: School, exclude: VideoAsset | None = None) -> float | None:
    """Minutes the plan still allows (None = unlimited)."""
    limit = school.plan.max_video_minutes
    if limit is None:
        return None
    return max(0.0, limit - school_video_minutes(school=school, exclude=exclude))


def video_event_ref(asset: VideoAsset) -> dict[str, Any]:
    """How events (webhook payloads) name a video."""
    return {"id": str(asset.uuid), "title": asset.title, "filename": asset.original_filename}


def videos_of_school(*, school: School) -> QuerySet[VideoAsset]:
    """Every video of the school (the library and the API list them)."""
    return VideoAsset.objects.filter(school=school)
