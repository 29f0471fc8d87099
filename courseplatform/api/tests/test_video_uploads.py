"""Videos uploaded with nothing but an API token, end to end with real ffmpeg clips.

Local storage: the start answer names a signed tus URL; a client with no session and no
token header PATCHes the bytes there (resuming after a HEAD), completes, the transcode
runs (as the video tests run it), the video is ready and ``video.ready`` is queued for
the school's webhook endpoint. S3: the same against the SeaweedFS bucket, the parts PUT
over real HTTP to presigned URLs. Then every refusal: a read token, another school's
token and host, over the plan's size, not a video file, malformed input, bytes missing,
a corrupt file (processed, then failed with the reason and ``video.failed``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from courseplatform.accounts.models import User
from courseplatform.api.models import ApiToken
from courseplatform.video.models import VideoAsset
from courseplatform.video.probe import NOT_A_VIDEO
from courseplatform.video.tasks import run_transcode_job
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    clip_dir_fixture,
    clip_path_fixture,
    list_keys,
    local_media_fixture,
)
from courseplatform.webhooks.models import WebhookDelivery
from tests.fixtures.schools import host_of

from .conftest import is_problem

pytestmark = pytest.mark.django_db

TUS = "application/offset+octet-stream"
# Loopback needs no proxy, whatever HTTP(S)_PROXY says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def hooked(alpha: Any, in_school: Callable[[Any], Any]) -> Any:
    """School A with a webhook endpoint for the video events (a public address: the
    deliveries are only queued here; the webhook tests deliver them)."""
    from courseplatform.webhooks.services import create_endpoint

    with in_school(alpha):
        owner = User.objects.get(school=alpha, role="owner")
        return create_endpoint(
            school=alpha,
            actor=owner,
            url="https://93.184.215.14/hooks",
            event_types=["video.ready", "video.failed"],
        )


def _events(school: Any, in_school: Callable[[Any], Any]) -> list[tuple[str, dict[str, Any]]]:
    with in_school(school):
        rows = WebhookDelivery.objects.filter(school=school).order_by("pk")
        return [(d.event_type, json.loads(d.payload)["data"]) for d in rows]


def _transcode_queued(school: Any, video_id: int) -> bool:
    return any(
        t.args_kwargs["args"] == [school.pk, video_id]
        for t in DBTaskResult.objects.filter(task_path__endswith="transcode_video")
    )


def _patch(client: Client, path: str, offset: int, data: bytes) -> Any:
    return client.generic(
        "PATCH",
        path,
        data,
        content_type=TUS,
        headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset)},
    )


def _put(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")
    try:
        with _opener.open(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _nothing_uploaded(school: Any, in_school: Callable[[Any], Any], media: Path | None) -> None:
    with in_school(school):
        assert not VideoAsset.objects.filter(school=school).exists()
    if media is not None:
        assert not any(p.is_file() for p in media.rglob("*"))


# --- end to end ----------------------------------------------------------------------------


def test_a_token_alone_uploads_a_clip_to_local_storage_and_it_becomes_ready(
    alpha,
    bravo,
    api_for,
    make_token,
    local_media,
    clip_path,
    hooked,
    in_school,
    django_capture_on_commit_callbacks,
):
    clip = clip_path("no_audio").read_bytes()
    token = make_token(alpha)
    api = api_for(alpha, token=token)
    started = api.post(
        "/videos/uploads",
        {"filename": "intro.mp4", "size": len(clip), "content_type": "video/mp4", "title": "Intro"},
    )
    assert started.status_code == 201, started.content
    video, upload = started.json()["video"], started.json()["upload"]
    assert video["status"] == "uploading" and video["title"] == "Intro"
    assert upload["mode"] == "tus" and upload["method"] == "PATCH" and upload["offset"] == 0
    assert upload["headers"] == {"Tus-Resumable": "1.0.0", "Content-Type": TUS}
    assert upload["complete_url"] == (
        f"http://{host_of(alpha)}/api/v1/videos/{video['id']}/upload/complete"
    )
    url = urlsplit(upload["url"])
    assert url.netloc == host_of(alpha) and url.path.startswith("/api/v1/uploads/")
    assert token not in upload["url"]

    # The bytes: a client with neither a session nor the token, in two PATCHes.
    bytes_client = Client(HTTP_HOST=host_of(alpha))
    half = len(clip) // 2
    first = _patch(bytes_client, url.path, 0, clip[:half])
    assert first.status_code == 204 and first["Upload-Offset"] == str(half)
    head = bytes_client.head(url.path, headers={"Tus-Resumable": "1.0.0"})
    assert head["Upload-Offset"] == str(half) and head["Upload-Length"] == str(len(clip))
    resumed = api.get(f"/videos/{video['id']}/upload").json()
    assert resumed["offset"] == half and resumed["mode"] == "tus"
    # Completing with bytes missing is refused and changes nothing.
    missing = is_problem(api.post(f"/videos/{video['id']}/upload/complete"), 409)
    assert f"{half} of {len(clip)} bytes" in missing["detail"]
    assert api.get(f"/videos/{video['id']}").json()["status"] == "uploading"
    # The URL is the school's: on another school's host it opens nothing.
    assert _patch(Client(HTTP_HOST=host_of(bravo)), url.path, half, b"x").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        last = _patch(bytes_client, url.path, half, clip[half:])
    assert last.status_code == 204 and last["Upload-Offset"] == str(len(clip))

    with django_capture_on_commit_callbacks(execute=True):
        completed = api.post(f"/videos/{video['id']}/upload/complete")
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "queued"
    assert _transcode_queued(alpha, video["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=alpha.pk, asset_id=video["id"]) == "ready"

    ready = api.get(f"/videos/{video['id']}").json()
    assert ready["status"] == "ready" and ready["progress_percent"] == 100
    assert ready["width"] == 640 and ready["height"] == 360
    [(event, data)] = _events(alpha, in_school)
    assert event == "video.ready"
    assert data["id"] == video["uuid"] and data["filename"] == "intro.mp4"
    assert data["renditions"] == ["360p"]
    # The finished upload's URL takes no more bytes; completing again changes nothing.
    assert _patch(bytes_client, url.path, len(clip), b"x").status_code == 409
    assert api.post(f"/videos/{video['id']}/upload/complete").json()["status"] == "ready"
    is_problem(api.get(f"/videos/{video['id']}/upload"), 409)


def test_a_token_alone_uploads_a_clip_to_s3_and_it_becomes_ready(
    alpha,
    api_for,
    s3_default_storage,
    clip_path,
    hooked,
    in_school,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.VIDEO_WORK_DIR = str(tmp_path / "work")
    clip = clip_path("no_audio").read_bytes()
    api = api_for(alpha)
    started = api.post(
        "/videos/uploads", {"filename": "intro.mov", "size": len(clip), "content_type": ""}
    )
    assert started.status_code == 201, started.content
    video, upload = started.json()["video"], started.json()["upload"]
    assert upload["mode"] == "s3" and upload["part_count"] == 1 and upload["url"] is None
    [part] = upload["parts"]
    assert part["method"] == "PUT" and part["size"] == len(clip)
    assert "X-Amz-Signature=" in part["url"]

    # Nothing sent yet: completing is refused and changes nothing.
    is_problem(api.post(f"/videos/{video['id']}/upload/complete"), 409)
    assert api.get(f"/videos/{video['id']}").json()["status"] == "uploading"

    assert _put(part["url"], clip) == 200
    assert api.get(f"/videos/{video['id']}/upload").json()["received_parts"] == [1]
    with django_capture_on_commit_callbacks(execute=True):
        completed = api.post(f"/videos/{video['id']}/upload/complete")
    assert completed.status_code == 200 and completed.json()["status"] == "queued"
    assert _transcode_queued(alpha, video["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=alpha.pk, asset_id=video["id"]) == "ready"
    assert api.get(f"/videos/{video['id']}").json()["status"] == "ready"
    assert [event for event, _ in _events(alpha, in_school)] == ["video.ready"]

    # Deleting it through the API removes its files from the bucket.
    with in_school(alpha):
        prefix = VideoAsset.objects.get(pk=video["id"]).storage_prefix
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/videos/{video['id']}").status_code == 204
    assert list_keys(prefix) == []


def test_a_corrupt_file_is_processed_then_failed_with_the_reason(
    alpha, api_for, local_media, hooked, in_school, django_capture_on_commit_callbacks
):
    junk = b"These are my lecture notes, not a video.\n" * 10
    api = api_for(alpha)
    started = api.post("/videos/uploads", {"filename": "lecture.mp4", "size": len(junk)}).json()
    path = urlsplit(started["upload"]["url"]).path
    with django_capture_on_commit_callbacks(execute=True):
        assert _patch(Client(HTTP_HOST=host_of(alpha)), path, 0, junk).status_code == 204
    video_id = started["video"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=alpha.pk, asset_id=video_id) == "failed"
    failed = api.get(f"/videos/{video_id}").json()
    assert failed["status"] == "failed" and failed["error_message"] == NOT_A_VIDEO
    [(event, data)] = _events(alpha, in_school)
    assert event == "video.failed" and data["error"] == NOT_A_VIDEO
    # Completing a failed upload answers it as it is.
    again = api.post(f"/videos/{video_id}/upload/complete")
    assert again.status_code == 200 and again.json()["status"] == "failed"


# --- refusals ------------------------------------------------------------------------------


def test_a_read_token_cannot_start_resume_or_complete(alpha, api_for, local_media, in_school):
    reader = api_for(alpha, scope="read")
    is_problem(reader.post("/videos/uploads", {"filename": "a.mp4", "size": 10}), 403)
    _nothing_uploaded(alpha, in_school, local_media)
    video = api_for(alpha).post("/videos/uploads", {"filename": "a.mp4", "size": 10}).json()
    is_problem(reader.get(f"/videos/{video['video']['id']}/upload"), 403)
    is_problem(reader.post(f"/videos/{video['video']['id']}/upload/complete"), 403)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {"filename": "notes.pdf", "size": 10, "content_type": "application/pdf"},
            422,
            "content_type",
        ),
        ({"filename": "song.mp3", "size": 10}, 422, "content_type"),
        ({"filename": "clip.mp4", "size": 10, "title": "Two\nlines"}, 422, "title"),
        ({"filename": "clip\x00.mp4", "size": 10}, 422, "filename"),
        ({"filename": "clip.mp4", "size": 0}, 422, "size"),
        ({"filename": "clip.mp4", "size": "ten"}, 422, "size"),
        ({"filename": "", "size": 10}, 422, "filename"),
        ({"filename": "clip.mp4", "size": 10, "lesson": 3}, 422, "lesson"),
        ({"filename": "clip.mp4", "size": 2_000_000}, 409, None),  # over the plan's upload size
    ],
)
def test_bad_starts_are_problems_and_create_nothing(
    alpha, api_for, local_media, plan_limits, in_school, body, status, field
):
    plan_limits(alpha.plan, max_upload_bytes=1_000_000)
    answer = is_problem(api_for(alpha).post("/videos/uploads", body), status)
    if field is not None:
        assert field in {error["field"] for error in answer["errors"]}, answer
    else:
        assert "accepts videos up to" in answer["detail"]
    _nothing_uploaded(alpha, in_school, local_media)


def test_malformed_json_and_storage_over_quota_change_nothing(
    alpha, api_for, local_media, plan_limits, in_school
):
    api = api_for(alpha)
    is_problem(api.post("/videos/uploads", '{"filename": "a.mp4", "size": '), 400)
    plan_limits(alpha.plan, max_storage_bytes=500)
    answer = is_problem(api.post("/videos/uploads", {"filename": "a.mp4", "size": 600}), 409)
    assert "Not enough storage left" in answer["detail"]
    _nothing_uploaded(alpha, in_school, local_media)


def test_other_schools_token_cannot_see_complete_or_delete_an_upload(
    alpha, bravo, api_for, local_media, in_school, django_capture_on_commit_callbacks
):
    started = api_for(alpha).post("/videos/uploads", {"filename": "a.mp4", "size": 4}).json()
    video_id = started["video"]["id"]
    other = api_for(bravo)
    is_problem(other.get(f"/videos/{video_id}"), 404)
    is_problem(other.get(f"/videos/{video_id}/upload"), 404)
    is_problem(other.post(f"/videos/{video_id}/upload/complete"), 404)
    is_problem(other.delete(f"/videos/{video_id}"), 404)
    assert all(v["id"] != video_id for v in other.get("/videos").json()["data"])
    # B's token on A's host is no token at all.
    foreign = api_for(alpha, token=api_for(bravo).headers["Authorization"].split()[1])
    is_problem(foreign.post(f"/videos/{video_id}/upload/complete"), 401)
    with in_school(alpha):
        assert VideoAsset.objects.get(pk=video_id).status == VideoAsset.Status.UPLOADING


def test_the_upload_url_stops_with_its_token_and_when_forged(
    alpha, api_for, make_token, local_media, in_school, settings
):
    token = make_token(alpha)
    started = (
        api_for(alpha, token=token).post("/videos/uploads", {"filename": "a.mp4", "size": 4}).json()
    )
    path = urlsplit(started["upload"]["url"]).path
    client = Client(HTTP_HOST=host_of(alpha))
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad in (forged, "/api/v1/uploads/nonsense"):
        is_problem(_patch(client, bad, 0, b"abcd"), 403)
    assert _patch(client, path, 0, b"ab").status_code == 204
    # Without the tus header, or with a wrong offset: tus answers, as problems.
    plain = client.generic("PATCH", path, b"cd", content_type=TUS, headers={"Upload-Offset": "2"})
    is_problem(plain, 412)
    wrong = is_problem(_patch(client, path, 0, b"cd"), 409)
    assert "does not match" in wrong["detail"]
    settings.API_VIDEO_UPLOAD_URL_SECONDS = -1  # every URL handed out has expired
    is_problem(_patch(client, path, 2, b"cd"), 403)
    settings.API_VIDEO_UPLOAD_URL_SECONDS = 3600
    with in_school(alpha):
        ApiToken.objects.filter(school=alpha).update(revoked_at="2026-01-01T00:00:00Z")
    is_problem(_patch(client, path, 2, b"cd"), 403)
    with in_school(alpha):
        assert VideoAsset.objects.get(pk=started["video"]["id"]).uploaded_bytes == 2


def test_cancelling_through_the_upload_url_or_the_api_removes_the_upload(
    alpha, api_for, local_media, in_school, django_capture_on_commit_callbacks
):
    api = api_for(alpha)
    first = api.post("/videos/uploads", {"filename": "a.mp4", "size": 4}).json()
    path = urlsplit(first["upload"]["url"]).path
    client = Client(HTTP_HOST=host_of(alpha))
    options = client.options(path, headers={"Tus-Resumable": "1.0.0"})
    assert options.status_code == 204 and "creation" in options["Tus-Extension"]
    with django_capture_on_commit_callbacks(execute=True):
        gone = client.delete(path, headers={"Tus-Resumable": "1.0.0"})
    assert gone.status_code == 204
    is_problem(_patch(client, path, 0, b"abcd"), 404)
    second = api.post("/videos/uploads", {"filename": "b.mp4", "size": 4}).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/videos/{second['video']['id']}").status_code == 204
    _nothing_uploaded(alpha, in_school, local_media)
