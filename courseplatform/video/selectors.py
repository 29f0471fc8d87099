"""Reads of video figures: the bytes and minutes a school holds against its plan."""

from __future__ import annotations

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from courseplatform.tenancy.models import School

from .models import VideoAsset


def school_video_bytes(*, school: School, exclude: VideoAsset | None = None) -> int:
    """Bytes of video a school holds: sources + renditions of every asset, plus the
    declared size of uploads still in flight (they are reserved against the quota)."""
    assets = VideoAsset.objects.filter(school=school)
    if exclude is not None:
        assets = assets.exclude(pk=exclude.pk)
    stored = assets.aggregate(
        total=Coalesce(Sum(F("source_bytes") + F("output_bytes")), 0),
        uploading=Coalesce(
            Sum("declared_size", filter=Q(status=VideoAsset.Status.UPLOADING, source_bytes=0)), 0
        ),
    )
    return int(stored["total"]) + int(stored["uploading"])


def school_video_minutes(*, school: School, exclude: VideoAsset | None = None) -> float:
    """Minutes of video a school holds (every probed asset that is not failed)."""
    assets = VideoAsset.objects.filter(school=school, duration_seconds__isnull=False).exclude(
        status=VideoAsset.Status.FAILED
    )
    if exclude is not None:
        assets = assets.exclude(pk=exclude.pk)
    seconds = assets.aggregate(s=Coalesce(Sum("duration_seconds"), 0.0))["s"]
    return float(seconds) / 60.0


def remaining_video_minutes(*, school: School, exclude: VideoAsset | None = None) -> float | None:
    """Minutes the plan still allows (None = unlimited)."""
    limit = school.plan.max_video_minutes
    if limit is None:
        return None
    return max(0.0, limit - school_video_minutes(school=school, exclude=exclude))
