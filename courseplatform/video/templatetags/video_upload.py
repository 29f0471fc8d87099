"""Template helpers for the instructor's video panels: the uploader's configuration
and human-readable durations, ETAs and upload percentages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from courseplatform.tenancy.models import School
from courseplatform.video import multipart, uploads
from courseplatform.video.models import VideoAsset
from courseplatform.video.services import VIDEO_EXTENSIONS

register = template.Library()

# What the file picker offers: the rule the server checks (services.check_video_file_type).
ACCEPT = ",".join(["video/*", *(f".{extension}" for extension in VIDEO_EXTENSIONS)])
# tus PATCH size: small enough for proxies with body limits (Cloudflare: 100 MB) and
# for worker timeouts on slow uplinks, large enough that request overhead is noise.
TUS_CHUNK_BYTES = 16 * 1024 * 1024


def poster_url(school: School, asset: VideoAsset | None) -> str:
    """A short-lived URL of the asset's poster image ('' when it has none yet)."""
    if asset is None or asset.status != VideoAsset.Status.READY or not asset.poster_key:
        return ""
    from courseplatform.ops.files import signed_file_url

    try:
        return signed_file_url(
            school=school,
            key=asset.poster_key,
            filename="poster.jpg",
            content_type="image/jpeg",
            inline=True,
        )
    except ValueError:
        return ""


@register.simple_tag
def video_accept() -> str:
    """The file picker's ``accept`` attribute."""
    return ACCEPT


@register.simple_tag(takes_context=True)
def video_uploader_config(context: template.Context, lesson: Any) -> SafeString:
    """JSON for the uploader's ``data-config`` attribute (already HTML-escaped)."""
    request = context.get("request")
    school: School = request.school  # type: ignore[union-attr]
    mode = uploads.upload_mode()
    config: dict[str, Any] = {
        "mode": mode,
        "lesson": lesson.pk,
        "csrf": str(context.get("csrf_token", "")),
        "maxBytes": school.plan.max_upload_bytes,
        "accept": ACCEPT,
        "statusUrl": reverse("video_manage:lesson_status", args=[lesson.pk]),
        "libraryUrl": reverse("video_manage:library"),
    }
    if mode == "tus":
        config["endpoint"] = reverse("video_manage:tus") + f"?lesson={lesson.pk}"
        config["chunkBytes"] = TUS_CHUNK_BYTES
    else:
        config["endpoint"] = reverse("video_manage:s3_create")
        config["partBytes"] = multipart.S3_PART_BYTES
        config["maxParts"] = multipart.S3_MAX_PARTS
    return mark_safe(escape(json.dumps(config)))  # noqa: S308 - escaped just above


@register.filter
def video_duration(seconds: float | None) -> str:
    """``75.4`` → ``"1:15"``, ``3725`` → ``"1:02:05"``; '' when unknown."""
    if seconds is None:
        return ""
    total = round(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@register.filter
def video_eta(seconds: int | None) -> str:
    """Seconds left as words: "about 40 s left", "about 3 min left"."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    # The same wording as the uploader's (frontend/src/js/uploader.js).
    if seconds < 60:
        return _("about %(seconds)s s left") % {"seconds": max(seconds, 1)}
    if seconds < 3600:
        return _("about %(minutes)s min left") % {"minutes": round(seconds / 60)}
    hours, rest = divmod(seconds, 3600)
    return _("about %(hours)s h %(minutes)s min left") % {
        "hours": hours,
        "minutes": round(rest / 60),
    }


@register.filter
def upload_percent(asset: VideoAsset) -> int:
    """How much of an unfinished upload has arrived, 0-100."""
    if not asset.declared_size:
        return 0
    return min(100, int(100 * asset.uploaded_bytes / asset.declared_size))


@register.filter
def video_bytes(asset: VideoAsset) -> int:
    """Bytes to show for a video: what it stores, or its declared size while uploading."""
    return asset.bytes_stored or asset.declared_size


def status_context(
    school: School, asset: VideoAsset | None, lesson: Any = None, compact: bool = False
) -> dict[str, Any]:
    return {
        "asset": asset,
        "lesson": lesson,
        "compact": compact,
        "poster": poster_url(school, asset),
        "polling": asset is not None
        and asset.status in (VideoAsset.Status.QUEUED, VideoAsset.Status.PROCESSING),
    }


@register.inclusion_tag("video/partials/status.html", takes_context=True)
def video_status(
    context: template.Context, asset: VideoAsset | None, lesson: Any = None, compact: bool = False
) -> dict[str, Any]:
    """The status panel of a video (polls itself every 2 s while it processes)."""
    request = context.get("request")
    return status_context(request.school, asset, lesson, compact)  # type: ignore[union-attr]
