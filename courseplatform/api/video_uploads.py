"""Where an API client sends a video's bytes on local storage: a tus 1.0 endpoint at
``/api/v1/uploads/<grant>`` (HEAD for the offset, PATCH to append, DELETE to cancel).

The URL itself is the credential, like a presigned S3 URL: ``<grant>`` is a signed,
timestamped ``[school id, video uuid, token id]`` (``django.core.signing``, its own
salt), valid ``API_VIDEO_UPLOAD_URL_SECONDS``, so any tus client or plain curl can send
the bytes without a session or the token's secret. Each request checks it again: the
host's school, the token still usable and able to write (revoking the token stops its
uploads at once), and the video still that school's and uploading. The bytes stream to
disk through the same code as the browser uploader's (``video.views_upload.tus_answer``);
never through ninja or the API's write wrapper, which would read the whole body.

Errors are problem+json like the rest of the API, with the tus headers a client needs
(``Tus-Resumable``, and ``Upload-Offset`` where the offset is known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from courseplatform.ops.services import acting_through
from courseplatform.tenancy.models import School
from courseplatform.video import uploads, views_upload
from courseplatform.video.models import VideoAsset
from courseplatform.video.uploads import UploadError

from . import selectors
from .models import ApiToken
from .problems import problem_response

SALT = "courseplatform.api.video-upload"


@dataclass(frozen=True)
class Grant:
    school_id: int
    video_uuid: str
    token_id: int


def sign_grant(*, school: School, asset: VideoAsset, token: ApiToken) -> str:
    return signing.dumps([school.pk, str(asset.uuid), token.pk], salt=SALT)


def read_grant(raw: str) -> Grant | None:
    """The grant ``raw`` carries, or None when it is forged, altered or expired."""
    try:
        data = signing.loads(raw, salt=SALT, max_age=settings.API_VIDEO_UPLOAD_URL_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not (isinstance(data, list) and len(data) == 3):  # pragma: no cover - we signed it
        return None
    school_id, video_uuid, token_id = data
    return Grant(school_id=int(school_id), video_uuid=str(video_uuid), token_id=int(token_id))


def upload_url(request: HttpRequest, *, asset: VideoAsset, token: ApiToken) -> str:
    grant = sign_grant(school=request.school, asset=asset, token=token)  # type: ignore[attr-defined]
    return request.build_absolute_uri(reverse("api_video_upload", args=[grant]))


def upload_url_expires_at() -> datetime:
    return timezone.now() + timedelta(seconds=settings.API_VIDEO_UPLOAD_URL_SECONDS)


def _problem(
    request: HttpRequest, status: int, detail: str, *, kind: str, offset: int | None = None
) -> HttpResponse:
    headers = {"Tus-Resumable": uploads.TUS_VERSION, "Cache-Control": "no-store"}
    if offset is not None:
        headers["Upload-Offset"] = str(offset)
    return problem_response(request, status, detail, kind=kind, headers=headers)


_KINDS = {400: "validation", 403: "forbidden", 404: "not-found", 409: "conflict", 413: "conflict"}


@csrf_exempt  # no cookies reach /api/ (ApiRequestMiddleware): nothing to forge
def video_upload(request: HttpRequest, grant: str) -> HttpResponse:
    school: School | None = getattr(request, "school", None)
    found = read_grant(grant)
    token = None
    if school is not None and found is not None and found.school_id == school.pk:
        token = selectors.usable_token(school=school, token_id=found.token_id)
    if school is None or found is None or token is None or not token.can_write:
        # Invalid, expired, revoked, read-only and foreign grants all look the same.
        return _problem(
            request,
            403,
            "This upload URL is not valid: it expired, its token was revoked, or it is not "
            "for this school. GET /api/v1/videos/{id}/upload gives a new one.",
            kind="forbidden",
        )
    actor = token.created_by
    assert actor is not None  # usable_token checked that it is the active owner
    try:
        with acting_through({"api_token": token.pk, "name": token.name}):
            uploads.require_mode("tus")
            method = views_upload.tus_method(request)
            if method == "OPTIONS":
                return views_upload.tus_options(request)
            views_upload.check_tus_version(request)
            asset = uploads.get_upload(school=school, actor=actor, upload_id=found.video_uuid)
            return views_upload.tus_answer(
                request,
                method=method,
                school=school,
                user=actor,
                asset=asset,
                completion_lesson=lambda: None,
            )
    except UploadError as exc:
        kind = _KINDS.get(exc.status, "upload")
        return _problem(request, exc.status, exc.message, kind=kind, offset=exc.offset)
    except Http404:
        return _problem(request, 404, "No such upload.", kind="not-found")
