"""Videos: upload (start, where to send the bytes, complete), status, list and delete,
through ``video`` selectors, services and the upload layer (the browser uploader's
checks and transports: ``video.transfers``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from courseplatform.video import multipart, selectors, services, transfers, uploads
from courseplatform.video.models import VideoAsset
from courseplatform.video.uploads import UploadError, get_asset

from ..guard import read_auth, write_auth
from ..pagination import paginate
from ..problems import ApiProblem
from ..schemas import In, Problem
from ..video_uploads import upload_url, upload_url_expires_at
from .common import ERRORS, ListParams, actor, school, token

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


# --- uploads (registered before /videos/{video_id}, which would match "uploads") -------

# Presigned part URLs handed out per answer (S3); ask for the next ones with first_part.
PARTS_PER_ANSWER = 100


class VideoUploadIn(In):
    filename: str = Field(min_length=1, max_length=255, description="The file's name.")
    size: int = Field(ge=1, le=2**53, description="Exact size in bytes.")
    content_type: str = Field(
        default="", max_length=100, description="Media type, e.g. `video/mp4`."
    )
    title: str = Field(default="", max_length=200, description="Defaults to the file name.")


class UploadPart(Schema):
    part_number: int
    url: str
    method: str
    size: int


class UploadInstructions(Schema):
    """Where and how to send the bytes. `tus`: PATCH them to `url` with `headers`,
    from `offset` (HEAD `url` tells the offset after an interruption). `s3`: PUT each
    part's bytes to its `url` (exactly `size` bytes, part `n` starting at
    (n - 1) * `part_size`). Then POST `complete_url`. URLs work until `expires_at`."""

    mode: Literal["tus", "s3"]
    complete_url: str
    expires_at: datetime
    url: str | None
    method: str | None
    headers: dict[str, str]
    offset: int | None
    part_size: int | None
    part_count: int | None
    parts: list[UploadPart]
    received_parts: list[int]


class VideoUploadOut(Schema):
    video: VideoOut
    upload: UploadInstructions


UPLOAD_ERRORS: dict[int, type[Problem]] = {**ERRORS, 502: Problem}

# Service fields of a refused upload, as the fields of VideoUploadIn.
_FIELDS_BY_CODE = {"file_type": "content_type", services.PLAN_LIMIT: "size"}


def _problem(exc: UploadError) -> ApiProblem:
    """The upload layer's refusal (an HTTP status of the browser uploader) as the API's."""
    cause = exc.__cause__
    if exc.status == 413:  # the plan's upload size or storage limit
        return ApiProblem(409, exc.message, kind="conflict")
    if exc.status == 400:
        errors = [{"field": None, "message": exc.message}]
        if isinstance(cause, ValidationError) and hasattr(cause, "error_dict"):
            errors = [
                {
                    "field": _FIELDS_BY_CODE.get(str(error.code), "filename")
                    if field == "file"
                    else field,
                    "message": " ".join(error.messages),
                }
                for field, field_errors in cause.error_dict.items()
                for error in field_errors
            ]
        return ApiProblem(422, exc.message, kind="validation", errors=errors)
    if exc.status == 502:
        return ApiProblem(502, exc.message, kind="storage-unavailable")
    # 409 (bytes missing), 410 (cancelled or failed upload)
    return ApiProblem(409, exc.message, kind="conflict")


def _instructions(
    request: HttpRequest, asset: VideoAsset, *, first_part: int = 1, listed: bool = False
) -> dict[str, Any]:
    complete = reverse("api-v1:complete_video_upload", kwargs={"video_id": asset.pk})
    answer: dict[str, Any] = {
        "complete_url": request.build_absolute_uri(complete),
        "url": None,
        "method": None,
        "headers": {},
        "offset": None,
        "part_size": None,
        "part_count": None,
        "parts": [],
        "received_parts": [],
    }
    if uploads.upload_mode() == "tus":
        return answer | {
            "mode": "tus",
            "expires_at": upload_url_expires_at(),
            "url": upload_url(request, asset=asset, token=token(request)),
            "method": "PATCH",
            "headers": {
                "Tus-Resumable": uploads.TUS_VERSION,
                "Content-Type": uploads.TUS_CONTENT_TYPE,
            },
            "offset": uploads.tus_offset(asset),
        }
    count = multipart.part_count(asset.declared_size)
    last = min(count, first_part + PARTS_PER_ANSWER - 1)
    parts = [
        {
            "part_number": number,
            **multipart.s3_sign_part(school=school(request), asset=asset, part_number=number),
        }
        for number in range(first_part, last + 1)
    ]
    received = (
        [int(p["PartNumber"]) for p in multipart.s3_list_parts(school=school(request), asset=asset)]
        if listed
        else []
    )
    return answer | {
        "mode": "s3",
        "expires_at": timezone.now() + timedelta(seconds=multipart.PRESIGNED_PART_SECONDS),
        "part_size": multipart.part_size(asset.declared_size),
        "part_count": count,
        "parts": [{k: part[k] for k in ("part_number", "url", "method", "size")} for part in parts],
        "received_parts": received,
    }


@router.post("/videos/uploads", response={201: VideoUploadOut, **UPLOAD_ERRORS}, auth=write_auth)
def start_video_upload(request: HttpRequest, payload: VideoUploadIn) -> Status[dict[str, object]]:
    """Start uploading a video: the same checks as the video library's uploader (a video
    file type, the plan's upload size and storage). The answer says where to send the
    bytes (`upload`); then POST its `complete_url`. Over a plan limit: 409."""
    try:
        asset = transfers.start_upload(
            school=school(request),
            actor=actor(request),
            filename=payload.filename,
            size=payload.size,
            content_type=payload.content_type,
            title=payload.title,
        )
        instructions = _instructions(request, asset)
    except UploadError as exc:
        raise _problem(exc) from exc
    return Status(201, {"video": _video_out(asset), "upload": instructions})


# --- one video ---------------------------------------------------------------------------


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


@router.get(
    "/videos/{video_id}/upload",
    response={200: UploadInstructions, **UPLOAD_ERRORS},
    auth=write_auth,
)
def get_video_upload(
    request: HttpRequest,
    video_id: int,
    first_part: int = Query(1, ge=1, le=multipart.S3_MAX_PARTS),  # type: ignore[type-arg]
) -> dict[str, Any]:
    """Fresh upload URLs of an unfinished upload, to resume it: the tus offset, or the
    parts the bucket already holds (`received_parts`) and signed URLs from `first_part`.
    An upload that is finished or failed is 409."""
    asset = get_asset(school=school(request), asset_id=video_id)
    if asset.status != VideoAsset.Status.UPLOADING:
        raise ApiProblem(
            409, f"This video is not being uploaded (status: {asset.status}).", kind="conflict"
        )
    try:
        return _instructions(request, asset, first_part=first_part, listed=True)
    except UploadError as exc:
        raise _problem(exc) from exc


@router.post(
    "/videos/{video_id}/upload/complete",
    response={200: VideoOut, **UPLOAD_ERRORS},
    auth=write_auth,
    url_name="complete_video_upload",
)
def complete_video_upload(request: HttpRequest, video_id: int) -> dict[str, object]:
    """Every byte is sent: the video is queued for processing (poll GET /videos/{id};
    `video.ready` or `video.failed` follow). Over the plan's limits with its real size, or
    already failed: 200 with `status` "failed" and the reason in `error_message`. Bytes
    missing: 409 (nothing changes). Completing again answers the video as it is."""
    asset = get_asset(school=school(request), asset_id=video_id)
    try:
        transfers.complete_upload(school=school(request), actor=actor(request), asset=asset)
    except UploadError as exc:
        asset.refresh_from_db()
        if asset.status != VideoAsset.Status.FAILED:
            raise _problem(exc) from exc
    asset.refresh_from_db()
    return _video_out(asset)
