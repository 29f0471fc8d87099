"""Upload endpoints answered outside the happy path: wrong methods, missing headers,
tus-js-client's method override, malformed JSON bodies, and a lesson that disappears
while its video uploads. Each answer is a clear 4xx (or a finished upload that stays in
the library) and changes nothing it should not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from courseplatform.courses.models import Lesson
from courseplatform.tenancy.rls import school_context
from courseplatform.video import uploads
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

from .upload_support import b64, logged_in, payload, video_lesson

pytestmark = pytest.mark.django_db

HOST = "edges.localhost"
TUS: dict[str, Any] = {"HTTP_TUS_RESUMABLE": "1.0.0"}
OCTETS = "application/offset+octet-stream"


@pytest.fixture
def tus_owner(
    make_school: Callable[..., Any], client_for: Callable[..., Client], local_media: Path
) -> Any:
    created = make_school("edges")
    return created, logged_in(client_for, HOST, created.owner)


def _create(client: Client, size: int, lesson: Lesson | None = None) -> str:
    meta = f"filename {b64('lecture.mp4')}"
    query = f"?lesson={lesson.pk}" if lesson is not None else ""
    response = client.post(
        f"/manage/videos/tus/{query}",
        HTTP_UPLOAD_LENGTH=str(size),
        HTTP_UPLOAD_METADATA=meta,
        **TUS,
    )
    assert response.status_code == 201, response.content
    return str(response["Location"])


def _assets(school: Any) -> list[VideoAsset]:
    with school_context(school):
        return list(VideoAsset.objects.filter(school=school))


def test_tus_collection_refuses_other_methods_and_creates_nothing(tus_owner: Any) -> None:
    created, client = tus_owner
    response = client.put("/manage/videos/tus/", **TUS)
    assert response.status_code == 405
    assert response["Allow"] == "OPTIONS, POST"
    assert response["Tus-Resumable"] == "1.0.0"
    assert _assets(created.school) == []


def test_tus_upload_options_and_unknown_methods(tus_owner: Any) -> None:
    _, client = tus_owner
    url = _create(client, 100)
    options = client.options(url)
    assert options.status_code == 204
    assert options["Tus-Version"] == "1.0.0"
    assert "creation" in options["Tus-Extension"]
    refused = client.put(url, **TUS)
    assert refused.status_code == 405
    assert refused["Allow"] == "OPTIONS, HEAD, PATCH, DELETE"
    assert client.head(url, **TUS)["Upload-Offset"] == "0"


def test_tus_patch_without_an_offset_is_400_and_writes_nothing(tus_owner: Any) -> None:
    _, client = tus_owner
    url = _create(client, 100)
    response = client.generic("PATCH", url, data=b"x" * 10, content_type=OCTETS, **TUS)
    assert response.status_code == 400
    assert response.content.decode() == "Upload-Offset is required."
    assert client.head(url, **TUS)["Upload-Offset"] == "0"


def test_tus_post_with_a_patch_override_appends_like_a_patch(tus_owner: Any) -> None:
    created, client = tus_owner
    url = _create(client, 100)
    response = client.post(
        url,
        data=b"y" * 40,
        content_type=OCTETS,
        HTTP_X_HTTP_METHOD_OVERRIDE="patch",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert response.status_code == 204, response.content
    assert response["Upload-Offset"] == "40"
    assert client.head(url, **TUS)["Upload-Offset"] == "40"
    # A POST without an override is no tus method on an upload.
    assert client.post(url, data=b"", content_type=OCTETS, **TUS).status_code == 405
    assert [asset.status for asset in _assets(created.school)] == ["uploading"]


def test_tus_upload_whose_lesson_was_deleted_meanwhile_stays_in_the_library(
    tus_owner: Any,
) -> None:
    created, client = tus_owner
    lesson = video_lesson(created.school, created.owner)
    data = payload(4096)
    url = _create(client, len(data), lesson)
    with school_context(created.school):
        Lesson.objects.filter(pk=lesson.pk).delete()
    response = client.generic(
        "PATCH", url, data=data, content_type=OCTETS, HTTP_UPLOAD_OFFSET="0", **TUS
    )
    assert response.status_code == 204, response.content
    (asset,) = _assets(created.school)
    assert asset.status != "uploading"
    assert asset.source_bytes == len(data)


# --- S3 / R2 multipart JSON endpoints ------------------------------------------------------


@pytest.fixture
def s3_owner(
    make_school: Callable[..., Any],
    client_for: Callable[..., Client],
    s3_default_storage: Any,
) -> Any:
    assert uploads.upload_mode() == "s3"
    created = make_school("edges")
    return created, logged_in(client_for, HOST, created.owner)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "The request body must be JSON."),
        (b"[1, 2]", 400, "The request body must be a JSON object."),
        (b'{"pad": "' + b"x" * (64 * 1024) + b'"}', 413, "Request too large."),
    ],
)
def test_s3_create_refuses_bodies_that_are_not_a_small_json_object(
    s3_owner: Any, body: bytes, status: int, message: str
) -> None:
    created, client = s3_owner
    response = client.post("/manage/videos/s3/", data=body, content_type="application/json")
    assert response.status_code == status
    assert response.json() == {"error": message}
    assert response["Cache-Control"] == "no-store"
    assert _assets(created.school) == []


def test_s3_endpoints_refuse_the_wrong_methods(s3_owner: Any) -> None:
    created, client = s3_owner
    assert client.get("/manage/videos/s3/").status_code == 405
    response = client.post(
        "/manage/videos/s3/",
        data=json.dumps({"filename": "a.mp4", "size": 1000, "type": "video/mp4"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    upload = response.json()["upload"]
    assert client.post(f"/manage/videos/s3/{upload}/parts/1/").status_code == 405
    assert client.post(f"/manage/videos/s3/{upload}/parts/").status_code == 405
    assert client.get(f"/manage/videos/s3/{upload}/complete/").status_code == 405
    assert client.post(f"/manage/videos/s3/{upload}/").status_code == 405
    assert [asset.status for asset in _assets(created.school)] == ["uploading"]


def test_tus_options_on_an_unlimited_plan_name_no_maximum(tus_owner: Any, plan_limits: Any) -> None:
    created, client = tus_owner
    plan_limits(created.school.plan, max_upload_bytes=None)
    response = client.options("/manage/videos/tus/")
    assert response.status_code == 204
    assert "Tus-Max-Size" not in response


def test_tus_upload_for_a_lesson_of_a_course_the_instructor_does_not_teach_is_403(
    tus_owner: Any, client_for: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    created, _ = tus_owner
    lesson = video_lesson(created.school, created.owner)
    teacher = make_user(created.school, "teacher@edges.test", role="instructor")
    client = logged_in(client_for, HOST, teacher)
    response = client.post(
        f"/manage/videos/tus/?lesson={lesson.pk}",
        HTTP_UPLOAD_LENGTH="100",
        HTTP_UPLOAD_METADATA=f"filename {b64('lecture.mp4')}",
        **TUS,
    )
    assert response.status_code == 403
    assert response["Tus-Resumable"] == "1.0.0"
    assert response.content
    assert _assets(created.school) == []


def test_library_on_an_unlimited_plan_and_delete_back_to_a_safe_next(
    tus_owner: Any, plan_limits: Any
) -> None:
    created, client = tus_owner
    plan_limits(created.school.plan, max_storage_bytes=None, max_video_minutes=None)
    url = _create(client, 100)
    (asset,) = _assets(created.school)
    assert url.startswith("/manage/videos/tus/")
    library = client.get("/manage/videos/")
    assert library.status_code == 200
    assert (library.context["storage_percent"], library.context["minutes_percent"]) == (0, 0)
    response = client.post(f"/manage/videos/{asset.pk}/delete/", {"next": "/manage/videos/?page=1"})
    assert response.status_code == 302
    assert response["Location"] == "/manage/videos/?page=1"
    assert _assets(created.school) == []
