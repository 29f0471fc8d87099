"""Instructor-side video views under /manage/videos/: the video library, the status
partial the lesson editor polls, and the two upload transports (tus for local
storage, presigned multipart for S3/R2). Thin: parse, call ``video.uploads`` /
``video.services``, answer.

Pages use ``manager_required`` (owners and instructors; others 403, anonymous to the
login page). The upload endpoints are called by our own JavaScript with the CSRF
header and answer 403 instead of redirecting, so an expired session shows a message
rather than a login page in the middle of an upload. Inside, ``accounts.permissions``
decides: an upload is continued or cancelled only by its uploader or the owner, and
attached only to a lesson of a course the person teaches (403 otherwise; another
school's ids are 404).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses.models import Lesson
from courseplatform.tenancy.models import School
from courseplatform.tenancy.usage import storage_used_bytes

from . import multipart, selectors, services, uploads
from .models import VideoAsset
from .templatetags.video_upload import status_context
from .uploads import UploadError

LIBRARY_PAGE_SIZE = 50


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- JSON / tus plumbing -----------------------------------------------------------------


def _tus_headers(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = uploads.TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _tus_error(message: str, status: int, *, offset: int | None = None) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    if status == 412:
        response["Tus-Version"] = uploads.TUS_VERSION
    if offset is not None:
        response["Upload-Offset"] = str(offset)
    return _tus_headers(response)


def _json_error(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _upload_endpoint(
    view: Callable[..., HttpResponse], *, tus: bool
) -> Callable[..., HttpResponse]:
    """Owners and instructors of the host's school; a 403 with a message otherwise.
    ``UploadError`` and ``Http404`` become tus (text) or JSON error answers."""

    error = _tus_error if tus else _json_error

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return error(
                _("Your session has ended. Sign in again, then choose the same file to resume."),
                403,
            )
        school = getattr(request, "school", None)
        if school is None or not permissions.can_manage_school(user, school):
            return error(_("Only the school's owner and instructors can upload videos."), 403)
        try:
            return view(request, *args, **kwargs)
        except UploadError as exc:
            if tus:
                return _tus_error(exc.message, exc.status, offset=exc.offset)
            return _json_error(exc.message, exc.status)
        except Http404 as exc:
            return error(str(exc) or _("Not found."), 404)
        except PermissionDenied as exc:  # e.g. a lesson of a course they do not teach
            return error(str(exc) or _("Not allowed."), 403)

    return wrapper


def tus_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return _upload_endpoint(view, tus=True)


def json_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return _upload_endpoint(view, tus=False)


def _int_header(request: HttpRequest, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit():
        raise UploadError(f"{name} must be a non-negative integer.")
    return int(raw)


def check_tus_version(request: HttpRequest) -> None:
    if request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        raise UploadError(f"This server speaks tus {uploads.TUS_VERSION}.", status=412)


def tus_options(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Tus-Version"] = uploads.TUS_VERSION
    response["Tus-Extension"] = uploads.TUS_EXTENSIONS
    limit = _school(request).plan.max_upload_bytes
    if limit is not None:
        response["Tus-Max-Size"] = str(limit)
    return _tus_headers(response)


def _lesson_query(lesson: Lesson | None) -> str:
    return f"?{urlencode({'lesson': lesson.pk})}" if lesson is not None else ""


# --- tus ---------------------------------------------------------------------------------


@tus_endpoint
def tus_collection(request: HttpRequest) -> HttpResponse:
    """OPTIONS (discovery) and POST (creation) at /manage/videos/tus/."""
    uploads.require_mode("tus")
    if request.method == "OPTIONS":
        return tus_options(request)
    if request.method != "POST":
        return _tus_headers(HttpResponseNotAllowed(["OPTIONS", "POST"]))
    check_tus_version(request)
    if request.headers.get("Upload-Defer-Length"):
        raise UploadError("Uploads must declare their length (Upload-Length).")
    length = _int_header(request, "Upload-Length")
    if length is None:
        raise UploadError("Upload-Length is required.")
    metadata = uploads.parse_tus_metadata(request.headers.get("Upload-Metadata", ""))
    if not metadata.get("lesson") and request.GET.get("lesson"):
        metadata["lesson"] = request.GET["lesson"]
    asset, lesson = uploads.tus_create(
        school=_school(request), actor=_user(request), size=length, metadata=metadata
    )
    location = reverse("video_manage:tus_upload", args=[asset.uuid]) + _lesson_query(lesson)
    response = HttpResponse(status=201)
    response["Location"] = location
    response["Upload-Offset"] = "0"
    response["X-Video-Id"] = str(asset.pk)
    return _tus_headers(response)


def _completion_lesson(request: HttpRequest) -> Lesson | None:
    try:
        return uploads.lesson_for_upload(
            school=_school(request), actor=_user(request), lesson_id=request.GET.get("lesson")
        )
    except (Http404, PermissionDenied):
        # The lesson went away (or is no longer theirs) meanwhile: the video stays in
        # the library.
        return None


def tus_method(request: HttpRequest) -> str:
    """The request's method, with tus-js-client's ``overridePatchMethod`` (a POST with
    ``X-HTTP-Method-Override``) undone."""
    method = request.method or ""
    if method == "POST":
        method = request.headers.get("X-HTTP-Method-Override", "").upper() or "POST"
    return method


def tus_answer(
    request: HttpRequest,
    *,
    method: str,
    school: School,
    user: User,
    asset: VideoAsset,
    completion_lesson: Callable[[], Lesson | None],
) -> HttpResponse:
    """HEAD (offset), PATCH (append), DELETE (terminate) on one upload that ``user`` may
    continue; refusals raise ``UploadError`` (each caller answers in its own format).
    ``completion_lesson`` names the lesson the video joins once its last byte arrives."""
    if method == "HEAD":
        uploads.tus_check_alive(asset)
        response = HttpResponse(status=200)
        response["Upload-Offset"] = str(uploads.tus_offset(asset))
        response["Upload-Length"] = str(asset.declared_size)
        return _tus_headers(response)

    if method == "PATCH":
        content_type = request.content_type or ""
        if content_type != uploads.TUS_CONTENT_TYPE:
            raise UploadError(f"PATCH bodies must be {uploads.TUS_CONTENT_TYPE}.", status=415)
        offset = _int_header(request, "Upload-Offset")
        if offset is None:
            raise UploadError("Upload-Offset is required.")
        content_length = _int_header(request, "Content-Length")
        if content_length is None:
            raise UploadError("Content-Length is required.", status=411)
        completes = offset + content_length == asset.declared_size
        result = uploads.tus_append(
            school=school,
            actor=user,
            asset=asset,
            offset=offset,
            content_length=content_length,
            # Raw stream reads: never request.body, so no body is held in memory
            # (and DATA_UPLOAD_MAX_MEMORY_SIZE, which guards request.body, is moot).
            read=request.read,
            lesson=completion_lesson() if completes else None,
        )
        if result.interrupted:
            raise UploadError(_("The upload was interrupted; resume it."), offset=result.offset)
        response = HttpResponse(status=204)
        response["Upload-Offset"] = str(result.offset)
        return _tus_headers(response)

    if method == "DELETE":
        uploads.tus_terminate(school=school, actor=user, asset=asset)
        return _tus_headers(HttpResponse(status=204))

    return _tus_headers(HttpResponseNotAllowed(["OPTIONS", "HEAD", "PATCH", "DELETE"]))


@tus_endpoint
def tus_upload(request: HttpRequest, upload_id: str) -> HttpResponse:
    """HEAD (offset), PATCH (append), DELETE (terminate) on one upload."""
    uploads.require_mode("tus")
    method = tus_method(request)
    if method == "OPTIONS":
        return tus_options(request)
    check_tus_version(request)
    school, user = _school(request), _user(request)
    asset = uploads.get_upload(school=school, actor=user, upload_id=upload_id)
    return tus_answer(
        request,
        method=method,
        school=school,
        user=user,
        asset=asset,
        completion_lesson=lambda: _completion_lesson(request),
    )


# --- S3 / R2 multipart -------------------------------------------------------------------


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > 64 * 1024:
        raise UploadError("Request too large.", status=413)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise UploadError("The request body must be JSON.") from exc
    if not isinstance(data, dict):
        raise UploadError("The request body must be a JSON object.")
    return data


def _asset_json(request: HttpRequest, asset: VideoAsset) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "upload": str(asset.uuid),
        "status": asset.status,
        "statusUrl": reverse("video_manage:status", args=[asset.pk]),
    }


@json_endpoint
def s3_create(request: HttpRequest) -> HttpResponse:
    """POST {filename, size, type, lesson} → 201 {uploadId, key, partSize, upload, …}."""
    uploads.require_mode("s3")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    data = _json_body(request)
    asset = multipart.s3_create(
        school=_school(request),
        actor=_user(request),
        filename=str(data.get("filename") or ""),
        size=data.get("size"),
        content_type=str(data.get("type") or ""),
        lesson_id=data.get("lesson"),
    )
    body = _asset_json(request, asset) | {
        "uploadId": asset.multipart_upload_id,
        "key": asset.source_key,
        "partSize": multipart.part_size(asset.declared_size),
    }
    return JsonResponse(body, status=201)


@json_endpoint
def s3_sign_part(request: HttpRequest, upload_id: str, part_number: int) -> HttpResponse:
    """GET → {url, method, expires, size}: a presigned PUT for one part."""
    uploads.require_mode("s3")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    asset = uploads.get_upload(school=_school(request), actor=_user(request), upload_id=upload_id)
    signed = multipart.s3_sign_part(school=_school(request), asset=asset, part_number=part_number)
    response = JsonResponse(signed)
    response["Cache-Control"] = "no-store"
    return response


@json_endpoint
def s3_parts(request: HttpRequest, upload_id: str) -> HttpResponse:
    """GET → {parts: [{PartNumber, Size, ETag}]}, for resuming."""
    uploads.require_mode("s3")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    asset = uploads.get_upload(school=_school(request), actor=_user(request), upload_id=upload_id)
    parts = multipart.s3_list_parts(school=_school(request), asset=asset)
    response = JsonResponse(
        {"parts": parts, "uploadId": asset.multipart_upload_id, "key": asset.source_key}
    )
    response["Cache-Control"] = "no-store"
    return response


@json_endpoint
def s3_complete(request: HttpRequest, upload_id: str) -> HttpResponse:
    """POST {lesson} → {status, …}: complete, measure, queue processing, attach."""
    uploads.require_mode("s3")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    data = _json_body(request)
    school, user = _school(request), _user(request)
    asset = uploads.get_upload(school=school, actor=_user(request), upload_id=upload_id)
    try:
        lesson = uploads.lesson_for_upload(school=school, actor=user, lesson_id=data.get("lesson"))
    except (Http404, PermissionDenied):
        lesson = None
    multipart.s3_complete(school=school, actor=user, asset=asset, lesson=lesson)
    asset.refresh_from_db()
    return JsonResponse(_asset_json(request, asset))


@json_endpoint
def s3_abort(request: HttpRequest, upload_id: str) -> HttpResponse:
    """DELETE → 204: abort the multipart upload and drop the unfinished video."""
    uploads.require_mode("s3")
    if request.method != "DELETE":
        return HttpResponseNotAllowed(["DELETE"])
    asset = uploads.get_upload(school=_school(request), actor=_user(request), upload_id=upload_id)
    multipart.s3_abort(school=_school(request), actor=_user(request), asset=asset)
    return HttpResponse(status=204)


# --- pages and partials ------------------------------------------------------------------


def _status_context(
    request: HttpRequest, asset: VideoAsset | None, lesson: Lesson | None, compact: bool
) -> dict[str, Any]:
    return status_context(_school(request), asset, lesson, compact)


@manager_required
def status(request: HttpRequest, asset_id: int) -> HttpResponse:
    """The status partial of one video (htmx polls it every 2 s while it processes)."""
    school = _school(request)
    asset = uploads.get_asset(school=school, asset_id=asset_id)
    lesson = None
    if request.GET.get("lesson"):
        lesson = uploads.lesson_for_upload(
            school=school, actor=_user(request), lesson_id=request.GET["lesson"]
        )
    compact = request.GET.get("compact") == "1"
    response = render(
        request, "video/partials/status.html", _status_context(request, asset, lesson, compact)
    )
    response["Cache-Control"] = "no-store"
    return response


@manager_required
def lesson_status(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The status partial of a lesson's current video (after an upload finishes)."""
    school = _school(request)
    lesson = uploads.lesson_for_upload(school=school, actor=_user(request), lesson_id=lesson_id)
    assert lesson is not None
    asset = (
        VideoAsset.objects.filter(school=school, pk=lesson.video_id).first()
        if lesson.video_id is not None
        else None
    )
    response = render(
        request, "video/partials/status.html", _status_context(request, asset, lesson, False)
    )
    response["Cache-Control"] = "no-store"
    return response


@manager_required
def library(request: HttpRequest) -> HttpResponse:
    """Every video of the school with its status, size and duration, and the plan's
    storage and minutes used."""
    school = _school(request)
    user = _user(request)
    assets = (
        VideoAsset.objects.filter(school=school)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "lessons",
                queryset=Lesson.objects.filter(school=school).select_related("course"),
            )
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(assets, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    plan = school.plan
    # The plan quota counts lesson files too: show the figure the upload check uses.
    used_bytes = storage_used_bytes(school=school)
    used_minutes = selectors.school_video_minutes(school=school)
    rows = [
        {"asset": asset, "can_delete": permissions.can_manage_video(user, asset)}
        for asset in page.object_list
    ]
    return render(
        request,
        "video/manage/library.html",
        {
            "nav_active": "videos",
            "page": page,
            "rows": rows,
            "plan": plan,
            "used_bytes": used_bytes,
            "storage_limit": plan.max_storage_bytes,
            "storage_percent": _percent(used_bytes, plan.max_storage_bytes),
            "used_minutes": used_minutes,
            "minutes_limit": plan.max_video_minutes,
            "minutes_percent": _percent(used_minutes, plan.max_video_minutes),
        },
    )


def _percent(used: float, limit: int | None) -> int:
    if not limit:
        return 0
    return min(100, round(100 * used / limit))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@manager_required
def delete(request: HttpRequest, asset_id: int) -> HttpResponse:
    """GET: confirm page; POST: delete the video, its files and its processing job."""
    school, user = _school(request), _user(request)
    asset = uploads.get_asset(school=school, asset_id=asset_id)
    back = _safe_next(request, reverse("video_manage:library"))
    if not permissions.can_manage_video(user, asset):
        messages.error(
            request, _("Only the school owner or the person who uploaded a video can delete it.")
        )
        return redirect(back)
    lessons = list(asset.lessons.filter(school=school).select_related("course"))
    if request.method == "POST":
        title = str(asset)
        try:
            services.delete_asset(school=school, actor=user, asset=asset)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("“%(title)s” deleted.") % {"title": title})
        return redirect(back)
    return render(
        request,
        "video/manage/confirm_delete.html",
        {"nav_active": "videos", "asset": asset, "lessons": lessons, "next": back},
    )
