"""Playback endpoints on a school host.

``/video/lessons/<lesson>/master.m3u8``          master playlist, per viewer
``/video/lessons/<lesson>/<rendition>/index.m3u8`` media playlist (viewer token)
``/video/lessons/<lesson>/key``                  the AES-128 key (asset+viewer token)
``/video/lessons/<lesson>/position``             POST: save the playback position (and
                                                 ``watched`` seconds: watchtime.py)
``/video/lessons/<lesson>/playback-failure``     POST: the player gave up (one log line)
``/video/s/<storage key>?verify=…``              segments from local storage

Every lesson endpoint re-checks access to the lesson it names with
``courses.selectors.can_view_lesson``: a lesson of another school (or a draft
course for anyone but its managers, or a lesson without a ready video) is a 404,
a viewer without access a 403. Playlists and keys are ``private, no-store``;
segments are immutable and publicly cacheable (the token, not the cache,
decides who may fetch them), but only a 200 or 206: every other answer of the
segment view (403, 404, 405, 416, the redirect to S3) is ``private, no-store``,
so a CDN or browser never keeps an error in place of a segment.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from courseplatform.accounts.permissions import can_manage_course
from courseplatform.courses.models import Lesson
from courseplatform.courses.selectors import can_view_lesson
from courseplatform.ops import crypto, ratelimit
from courseplatform.ops.net import client_ip

from . import playback, signing, watchtime
from .models import Rendition, VideoAsset

log = structlog.get_logger(__name__)

NO_STORE = "private, no-store"
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".ts": "video/mp2t",
    ".aac": "audio/aac",
    ".m3u8": playback.PLAYLIST_CONTENT_TYPE,
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
# What the player reports when it gives up (frontend/src/js/player.js, giveUp).
FAILURE_KINDS = ("decrypt", "network", "media", "access")
_FAILURE_DETAIL = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")  # an hls.js error name
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_CHUNK = 64 * 1024


def _plain(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = NO_STORE
    return response


def _forbidden(message: str = "You do not have access to this video.") -> HttpResponse:
    return _plain(403, message)


def _playlist(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type=playback.PLAYLIST_CONTENT_TYPE)
    response["Cache-Control"] = NO_STORE
    return response


class _Denied(Exception):
    pass


def _lesson_and_asset(request: HttpRequest, lesson_id: int) -> tuple[Lesson, VideoAsset]:
    """The request school's lesson with its ready video, after checking access.

    Raises Http404 (another school's, unknown, hidden draft, no ready video) or
    _Denied (the viewer may not watch this lesson).
    """
    school = getattr(request, "school", None)
    if school is None:
        raise Http404("No such video.")
    lesson = (
        Lesson.objects.select_related("course", "video").filter(school=school, pk=lesson_id).first()
    )
    if lesson is None:
        raise Http404("No such video.")
    user: Any = request.user
    course = lesson.course
    if not course.is_published and not can_manage_course(user, course):
        raise Http404("No such video.")
    if not can_view_lesson(user=user, course=course, lesson=lesson):
        raise _Denied
    asset = lesson.video
    if asset is None or asset.school_id != school.pk or asset.status != VideoAsset.Status.READY:
        raise Http404("No such video.")
    return lesson, asset


@require_GET
def master_playlist(request: HttpRequest, lesson_id: int) -> HttpResponse:
    try:
        lesson, asset = _lesson_and_asset(request, lesson_id)
    except _Denied:
        return _forbidden()
    try:
        text = playback.render_master(
            asset=asset, lesson_id=lesson.pk, viewer=playback.viewer_tag(request.user)
        )
    except (FileNotFoundError, playback.PlaylistError) as exc:
        log.error("video.master_unavailable", asset=asset.pk, error=str(exc))
        raise Http404("This video is not available.") from exc
    return _playlist(text)


@require_GET
def media_playlist(request: HttpRequest, lesson_id: int, rendition: str) -> HttpResponse:
    try:
        lesson, asset = _lesson_and_asset(request, lesson_id)
    except _Denied:
        return _forbidden()
    viewer = playback.viewer_tag(request.user)
    message = playback.media_message(request.path, viewer)
    if not signing.verify(message, request.GET.get(signing.PARAM)):
        return _forbidden("This playlist link has expired or is not yours. Reload the page.")
    row = Rendition.objects.filter(school_id=asset.school_id, asset=asset, name=rendition).first()
    if row is None:
        raise Http404("No such rendition.")
    try:
        text = playback.render_media(asset=asset, rendition=row, lesson_id=lesson.pk, viewer=viewer)
    except (FileNotFoundError, playback.PlaylistError) as exc:
        log.error("video.media_unavailable", asset=asset.pk, rendition=rendition, error=str(exc))
        raise Http404("This video is not available.") from exc
    return _playlist(text)


@require_GET
def key(request: HttpRequest, lesson_id: int) -> HttpResponse:
    try:
        _lesson, asset = _lesson_and_asset(request, lesson_id)
    except _Denied:
        return _forbidden()
    message = playback.key_message(request.path, asset, playback.viewer_tag(request.user))
    if not signing.verify(message, request.GET.get(signing.PARAM)):
        return _forbidden("This key link has expired or is not yours. Reload the page.")
    if not asset.encryption_key_ciphertext:
        raise Http404("This video is not encrypted.")
    secret = crypto.decrypt(asset.encryption_key_ciphertext)
    if len(secret) != 16:
        raise ValueError(f"video {asset.pk}: the AES-128 key is {len(secret)} bytes")
    response = HttpResponse(secret, content_type="application/octet-stream")
    response["Cache-Control"] = NO_STORE
    return response


@require_POST
def save_position(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """``position`` (seconds) for an enrolled student; 403 for everyone else."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to save your progress."}, status=403)
    try:
        lesson, _asset = _lesson_and_asset(request, lesson_id)
    except _Denied:
        return JsonResponse({"error": "You do not have access to this video."}, status=403)
    try:
        position = float(request.POST.get("position", ""))
    except ValueError:
        return JsonResponse({"error": "position must be a number of seconds."}, status=400)
    try:
        watched = watchtime.parse_watched(request.POST.get("watched"))
    except ValueError as exc:
        return JsonResponse({"error": f"{exc}."}, status=400)
    try:
        saved = playback.save_position(
            school=request.school,  # type: ignore[attr-defined]
            student=request.user,  # type: ignore[arg-type]
            lesson=lesson,
            position_seconds=position,
            watched_seconds=watched,
        )
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    response = JsonResponse(
        {
            "position": saved.progress.last_position_seconds,
            "completed": saved.progress.completed_at is not None,
            "completed_now": saved.completed_now,
        }
    )
    response["Cache-Control"] = NO_STORE
    return response


def _bounded_int(value: str, *, top: int) -> int | None:
    """``value`` as an integer in 0..top; 0 for an empty field; None when invalid."""
    if value == "":
        return 0
    if not value.isdigit() or len(value) > 6 or int(value) > top:
        return None
    return int(value)


@require_POST
def report_playback_failure(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The player stopped after repeated failures: write one structured log line.

    Fields: ``kind`` (one of FAILURE_KINDS), ``detail`` (the hls.js error name),
    ``http_status`` (of the failing request, 0 if none) and ``failures`` (errors seen
    before giving up). Only a viewer of the lesson on its own school's host may
    report (CSRF-checked like every POST); reports are rate-limited per viewer and
    per address, so a broken video cannot flood the log.
    """
    try:
        lesson, asset = _lesson_and_asset(request, lesson_id)
    except _Denied:
        return JsonResponse({"error": "You do not have access to this video."}, status=403)
    viewer = playback.viewer_tag(request.user)
    ip = client_ip(request)
    for scope, ident, spec in (
        (
            "video-report-viewer",
            f"{asset.school_id}:{viewer}:{ip}",
            settings.RATE_LIMIT_VIDEO_REPORT,
        ),
        ("video-report-ip", ip, settings.RATE_LIMIT_VIDEO_REPORT_IP),
    ):
        status = ratelimit.hit(scope, ident, spec)
        if status.limited:
            refused = JsonResponse({"error": "Too many reports; try later."}, status=429)
            refused["Retry-After"] = str(status.retry_after)
            return refused
    kind = request.POST.get("kind", "")
    detail = request.POST.get("detail", "")
    http_status = _bounded_int(request.POST.get("http_status", ""), top=599)
    failures = _bounded_int(request.POST.get("failures", ""), top=100_000)
    problems = []
    if kind not in FAILURE_KINDS:
        problems.append(f"kind must be one of: {', '.join(FAILURE_KINDS)}.")
    if detail and not _FAILURE_DETAIL.fullmatch(detail):
        problems.append("detail must be an error name (letters, digits, . _ -; 64 at most).")
    if http_status is None:
        problems.append("http_status must be a number from 0 to 599.")
    if failures is None:
        problems.append("failures must be a whole number.")
    if problems:
        return JsonResponse({"error": " ".join(problems)}, status=400)
    log.warning(
        "video.playback_failed",
        school_id=asset.school_id,
        lesson_id=lesson.pk,
        asset_id=asset.pk,
        video=str(asset.uuid),
        kind=kind,
        detail=detail,
        http_status=http_status,
        failures=failures,
        viewer=viewer,
    )
    response = HttpResponse(status=204)
    response["Cache-Control"] = NO_STORE
    return response


# --- segments from local storage ---------------------------------------------------------


def content_type_for(name: str) -> str:
    extension = os.path.splitext(name)[1].lower()
    guessed = CONTENT_TYPES.get(extension) or mimetypes.guess_type(name)[0]
    return guessed or "application/octet-stream"


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) for a single satisfiable range; None to serve everything (no
    range, several ranges, or a malformed header); False when unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_s, last_s = match.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # suffix: the last N bytes
        length = int(last_s)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    first = int(first_s)
    if first >= size:
        return False
    last = int(last_s) if last_s else size - 1
    if last < first:
        return None
    return first, min(last, size - 1)


def _read_range(fh: Any, first: int, length: int) -> Any:
    try:
        fh.seek(first)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()


def serve_file(request: HttpRequest, key: str) -> HttpResponseBase:
    """Send a storage file with Range support, immutable caching and its content type
    (no access check: callers have checked)."""
    path = default_storage.path(key)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the response
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise Http404("No such file.") from exc
    stat = os.fstat(fh.fileno())
    size = stat.st_size
    content_type = content_type_for(key)
    range_header = request.headers.get("Range")
    wanted = _byte_range(range_header, size) if range_header else None
    response: HttpResponseBase
    if wanted is False:
        fh.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None or wanted == (0, size - 1):
        response = FileResponse(fh, content_type=content_type)
        response.block_size = _CHUNK  # when the server has no wsgi.file_wrapper (sendfile)
        response["Content-Length"] = str(size)
    else:
        assert isinstance(wanted, tuple)
        first, last = wanted
        length = last - first + 1
        response = StreamingHttpResponse(
            _read_range(fh, first, length), status=206, content_type=content_type
        )
        response["Content-Length"] = str(length)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = IMMUTABLE if response.status_code in (200, 206) else NO_STORE
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _errors_not_cached(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Only a segment (200/206) may be cached: every other answer is ``no-store``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = _plain(404, "No such file.")
        if response.status_code not in (200, 206):
            response["Cache-Control"] = NO_STORE
        return response

    return wrapper


@csrf_exempt  # GET/HEAD only (405 otherwise, not cached): no CSRF 403 page in between
@_errors_not_cached
@require_safe
def segment(request: HttpRequest, key: str) -> HttpResponseBase:
    """Local-storage counterpart of the CDN: the same token, checked here."""
    school = getattr(request, "school", None)
    if school is None or not playback.is_school_video_key(school.pk, key):
        raise Http404("No such file.")
    if not signing.verify(playback.segment_message(key), request.GET.get(signing.PARAM)):
        return _forbidden("This video link has expired. Reload the page.")
    if hasattr(default_storage, "bucket_name"):  # S3 storage: hand over a presigned URL
        return HttpResponseRedirect(playback.SegmentUrls().url(key))
    return serve_file(request, key)
