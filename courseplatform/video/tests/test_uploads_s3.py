"""Video uploads with S3/R2 storage: presigned multipart straight to the bucket.

Against the session's SeaweedFS server (``s3_server``): the app creates the multipart
upload, signs part URLs, and the test PUTs the parts to those URLs over real HTTP,
as the browser would; then it completes (or aborts) through the app.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.tenancy.rls import school_context
from courseplatform.video import uploads
from courseplatform.video.models import VideoAsset

from .upload_support import MiB, b64, logged_in, payload, video_lesson

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"

# Loopback needs no proxy, whatever HTTP(S)_PROXY says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def s3_media(s3_default_storage: Any, s3_server: Any) -> Any:
    """Default storage on the SeaweedFS bucket, configured like production."""
    assert uploads.upload_mode() == "s3"
    return s3_server


@pytest.fixture
def alpha(make_school: Callable[..., Any], s3_media: Any) -> Any:
    return make_school("alpha")


@pytest.fixture
def bravo(make_school: Callable[..., Any], s3_media: Any) -> Any:
    return make_school("bravo")


def post_json(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(data), content_type="application/json")


def put_part(url: str, body: bytes) -> tuple[int, str]:
    """PUT a part to a presigned URL the way a browser does: just the bytes."""
    request = urllib.request.Request(url, data=body, method="PUT")
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.headers["ETag"]
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def create(client: Client, size: int, lesson: Any = None, name: str = "lecture.mp4") -> Any:
    body: dict[str, Any] = {"filename": name, "size": size, "type": "video/mp4"}
    if lesson is not None:
        body["lesson"] = lesson.pk
    return post_json(client, "/manage/videos/s3/", body)


def sign(client: Client, upload: str, number: int) -> Any:
    return client.get(f"/manage/videos/s3/{upload}/parts/{number}/")


def asset_for(school: Any, upload: str) -> VideoAsset:
    with school_context(school):
        return VideoAsset.objects.get(school=school, uuid=upload)


def test_multipart_upload_end_to_end_queues_processing_with_the_real_size(
    alpha, s3_media, client_for
):
    school = alpha.school
    lesson = video_lesson(school, alpha.owner)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    data = payload(8 * MiB + 777_777)

    created = create(owner, len(data), lesson)
    assert created.status_code == 201, created.content
    info = created.json()
    assert info["partSize"] == 8 * MiB and info["status"] == "uploading"
    asset = asset_for(school, info["upload"])
    assert info["key"] == asset.source_key
    assert asset.source_key.startswith(f"schools/{school.pk}/videos/{asset.uuid}/source/")
    assert asset.multipart_upload_id == info["uploadId"]

    etags = []
    for number, chunk in ((1, data[: 8 * MiB]), (2, data[8 * MiB :])):
        signed = sign(owner, info["upload"], number)
        assert signed.status_code == 200
        assert signed["Cache-Control"] == "no-store"
        body = signed.json()
        assert body["method"] == "PUT" and body["size"] == len(chunk)
        assert "X-Amz-Signature=" in body["url"] and "X-Amz-Expires=900" in body["url"]
        status, etag = put_part(body["url"], chunk)
        assert status == 200 and etag
        etags.append(etag)

    listed = owner.get(f"/manage/videos/s3/{info['upload']}/parts/").json()["parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [
        (1, 8 * MiB),
        (2, len(data) - 8 * MiB),
    ]
    assert [p["ETag"] for p in listed] == etags

    done = post_json(owner, f"/manage/videos/s3/{info['upload']}/complete/", {"lesson": lesson.pk})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "queued"
    with school_context(school):
        asset.refresh_from_db()
        lesson.refresh_from_db()
    assert asset.status == VideoAsset.Status.QUEUED
    assert asset.source_bytes == asset.uploaded_bytes == len(data)
    assert asset.multipart_upload_id == ""
    assert lesson.video_id == asset.pk
    with default_storage.open(asset.source_key, "rb") as stored:
        assert stored.read() == data

    # Completing again (a retried request) changes nothing.
    again = post_json(owner, f"/manage/videos/s3/{info['upload']}/complete/", {})
    assert again.status_code == 200 and again.json()["status"] == "queued"


def test_abort_removes_the_multipart_upload_and_the_asset(
    alpha, s3_media, client_for, django_capture_on_commit_callbacks
):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    info = create(owner, 6 * MiB).json()
    asset = asset_for(alpha.school, info["upload"])
    url = sign(owner, info["upload"], 1).json()["url"]
    assert put_part(url, payload(6 * MiB))[0] == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.delete(f"/manage/videos/s3/{info['upload']}/")
    assert response.status_code == 204
    with school_context(alpha.school):
        assert not VideoAsset.objects.filter(pk=asset.pk).exists()
    client = s3_media.client()
    with pytest.raises(client.exceptions.NoSuchUpload):
        client.list_parts(Bucket=s3_media.bucket, Key=asset.source_key, UploadId=info["uploadId"])
    listed = client.list_objects_v2(Bucket=s3_media.bucket, Prefix=asset.storage_prefix)
    assert listed.get("KeyCount", 0) == 0
    assert sign(owner, info["upload"], 1).status_code == 404


def test_a_part_url_is_signed_for_its_length_and_numbers_stay_in_range(alpha, s3_media, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    info = create(owner, 10 * MiB).json()
    assert sign(owner, info["upload"], 0).status_code == 400
    assert sign(owner, info["upload"], 3).status_code == 400  # 10 MiB = parts 1 and 2
    url = sign(owner, info["upload"], 2).json()["url"]
    # More bytes than the part may have: the bucket refuses the signature.
    assert put_part(url, payload(3 * MiB))[0] == 403
    assert put_part(url, payload(2 * MiB))[0] == 200


def test_complete_before_every_part_arrived_is_409_and_keeps_the_upload(
    alpha, s3_media, client_for
):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    info = create(owner, 9 * MiB).json()
    url = sign(owner, info["upload"], 1).json()["url"]
    assert put_part(url, payload(8 * MiB))[0] == 200
    response = post_json(owner, f"/manage/videos/s3/{info['upload']}/complete/", {})
    assert response.status_code == 409
    assert "not complete" in response.json()["error"]
    assert asset_for(alpha.school, info["upload"]).status == VideoAsset.Status.UPLOADING
    # Resuming: the listing tells the browser which parts are already there.
    parts = owner.get(f"/manage/videos/s3/{info['upload']}/parts/").json()["parts"]
    assert [p["PartNumber"] for p in parts] == [1]


def test_quota_exceeded_at_create_is_413_and_starts_nothing(alpha, s3_media, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = create(owner, alpha.school.plan.max_upload_bytes + 1)
    assert response.status_code == 413
    assert "your plan (Free) accepts videos up to" in response.json()["error"]
    with school_context(alpha.school):
        assert not VideoAsset.objects.exists()
    uploads_in_bucket = s3_media.client().list_multipart_uploads(
        Bucket=s3_media.bucket, Prefix=f"schools/{alpha.school.pk}/"
    )
    assert not uploads_in_bucket.get("Uploads")


def test_s3_endpoints_are_school_scoped_and_manager_only(
    alpha, bravo, s3_media, client_for, make_user
):
    a_owner = logged_in(client_for, ALPHA, alpha.owner)
    info = create(a_owner, 6 * MiB).json()
    upload = info["upload"]
    b_owner = logged_in(client_for, BRAVO, bravo.owner)
    assert sign(b_owner, upload, 1).status_code == 404
    assert b_owner.get(f"/manage/videos/s3/{upload}/parts/").status_code == 404
    assert post_json(b_owner, f"/manage/videos/s3/{upload}/complete/", {}).status_code == 404
    assert b_owner.delete(f"/manage/videos/s3/{upload}/").status_code == 404

    student: User = make_user(alpha.school, "student@alpha.test")
    as_student = logged_in(client_for, ALPHA, student)
    assert create(as_student, 6 * MiB).status_code == 403
    assert sign(as_student, upload, 1).status_code == 403
    assert as_student.delete(f"/manage/videos/s3/{upload}/").status_code == 403
    assert asset_for(alpha.school, upload).status == VideoAsset.Status.UPLOADING


def test_tus_is_not_offered_when_storage_is_a_bucket(alpha, s3_media, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = owner.post(
        "/manage/videos/tus/",
        HTTP_TUS_RESUMABLE="1.0.0",
        HTTP_UPLOAD_LENGTH="10",
        HTTP_UPLOAD_METADATA=f"filename {b64('a.mp4')}",
    )
    assert response.status_code == 404
    lesson = video_lesson(alpha.school, alpha.owner)
    html = owner.get(f"/manage/courses/lessons/{lesson.pk}/").content.decode()
    assert "&quot;mode&quot;: &quot;s3&quot;" in html
