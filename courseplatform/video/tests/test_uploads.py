"""Video uploads on local storage: the tus 1.0 endpoint under /manage/videos/tus/, the
status partial, the video library and its metering, and access rules for two schools.

The tus tests speak the protocol with the Django test client. The two ``live`` tests
at the end talk HTTP to the real app (``live_app``): one drops the connection in the
middle of a PATCH and resumes, the other streams a 1 GiB body generated on the fly in
256 MiB PATCHes while watching the server process's resident memory.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.courses.models import Lesson
from courseplatform.tenancy.rls import school_context
from courseplatform.video import services, uploads
from courseplatform.video.models import VideoAsset

from .upload_support import MiB, b64, logged_in, payload, video_lesson

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"
TUS: dict[str, Any] = {"HTTP_TUS_RESUMABLE": "1.0.0"}
OCTETS = "application/offset+octet-stream"


# --- fixtures and helpers ------------------------------------------------------------------


def uploaded_video_bytes() -> float:
    """``courseplatform_upload_bytes_total{kind="video"}`` in this process."""
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("courseplatform_upload_bytes_total", {"kind": "video"})
    return value or 0.0


@pytest.fixture
def local_media(settings: Any, tmp_path: Path) -> Path:
    """Default storage on a fresh directory (the embedded default: FileSystemStorage)."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root


@pytest.fixture
def alpha(make_school: Callable[..., Any], local_media: Path) -> Any:
    return make_school("alpha")


@pytest.fixture
def bravo(make_school: Callable[..., Any], local_media: Path) -> Any:
    return make_school("bravo")


def metadata(filename: str = "lecture.mp4", lesson: Lesson | None = None) -> str:
    pairs = [f"filename {b64(filename)}", f"filetype {b64('video/mp4')}"]
    if lesson is not None:
        pairs.append(f"lesson {b64(str(lesson.pk))}")
    return ",".join(pairs)


def tus_create(client: Client, size: int, meta: str | None = None, **extra: Any) -> Any:
    headers = {**TUS, "HTTP_UPLOAD_LENGTH": str(size), **extra}
    if meta is not None:
        headers["HTTP_UPLOAD_METADATA"] = meta
    return client.post("/manage/videos/tus/", **headers)


def tus_patch(client: Client, url: str, offset: int, body: bytes, **extra: Any) -> Any:
    return client.generic(
        "PATCH",
        url,
        data=body,
        content_type=extra.pop("content_type", OCTETS),
        **{**TUS, "HTTP_UPLOAD_OFFSET": str(offset), **extra},
    )


def tus_head(client: Client, url: str) -> Any:
    return client.head(url, **TUS)


def asset_of(school: Any, location: str) -> VideoAsset:
    upload_id = re.search(r"/tus/([0-9a-f-]{36})/", location).group(1)  # type: ignore[union-attr]
    with school_context(school):
        return VideoAsset.objects.get(school=school, uuid=upload_id)


# --- tus protocol --------------------------------------------------------------------------


def test_tus_options_advertise_the_protocol_and_the_plan_limit(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = owner.options("/manage/videos/tus/")
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert int(response["Tus-Max-Size"]) == alpha.school.plan.max_upload_bytes


def test_tus_upload_in_chunks_queues_processing_and_becomes_the_lessons_video(alpha, client_for):
    school = alpha.school
    lesson = video_lesson(school, alpha.owner)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    data = payload(3 * MiB + 123)
    uploaded_before = uploaded_video_bytes()

    created = tus_create(owner, len(data), metadata("My Lecture (final).MP4", lesson))
    assert created.status_code == 201, created.content
    assert created["Tus-Resumable"] == "1.0.0"
    url = created["Location"]
    assert url.startswith("/manage/videos/tus/") and f"lesson={lesson.pk}" in url
    asset = asset_of(school, url)
    assert asset.status == VideoAsset.Status.UPLOADING
    assert asset.declared_size == len(data)
    assert asset.original_filename == "My Lecture (final).MP4"
    assert asset.source_key == (
        f"schools/{school.pk}/videos/{asset.uuid}/source/My_Lecture_final.mp4"
    )

    head = tus_head(owner, url)
    assert head.status_code == 200
    assert head["Upload-Offset"] == "0" and head["Upload-Length"] == str(len(data))
    assert head["Cache-Control"] == "no-store"

    offset = 0
    for size in (MiB, MiB + 7, len(data) - 2 * MiB - 7):
        response = tus_patch(owner, url, offset, data[offset : offset + size])
        assert response.status_code == 204, response.content
        offset += size
        assert response["Upload-Offset"] == str(offset)
        if offset < len(data):
            with school_context(school):
                asset.refresh_from_db()
            assert asset.status == VideoAsset.Status.UPLOADING
            assert asset.uploaded_bytes == offset

    with school_context(school):
        asset.refresh_from_db()
        lesson.refresh_from_db()
    assert asset.status == VideoAsset.Status.QUEUED
    assert asset.source_bytes == asset.uploaded_bytes == len(data)
    assert lesson.video_id == asset.pk
    assert Path(default_storage.path(asset.source_key)).read_bytes() == data
    assert uploaded_video_bytes() - uploaded_before == len(data)  # the metric, once
    # A finished upload reports its full length (a client resuming it is done).
    head = tus_head(owner, url)
    assert head["Upload-Offset"] == str(len(data))


def test_tus_resume_after_an_interrupted_patch_continues_from_the_head_offset(alpha, client_for):
    school = alpha.school
    owner = logged_in(client_for, ALPHA, alpha.owner)
    data = payload(2 * MiB + 10)
    url = tus_create(owner, len(data), metadata()).get("Location")
    asset = asset_of(school, url)

    # The connection breaks after 1.5 MiB of a PATCH that announced everything.
    arrived = 3 * MiB // 2
    stream = iter([data[:MiB], data[MiB:arrived]])

    def flaky_read(n: int) -> bytes:
        try:
            chunk = next(stream)
        except StopIteration:
            raise ConnectionResetError("peer went away") from None
        assert len(chunk) <= n
        return chunk

    with school_context(school):
        result = uploads.tus_append(
            school=school,
            actor=alpha.owner,
            asset=asset,
            offset=0,
            content_length=len(data),
            read=flaky_read,
        )
    assert result.interrupted and not result.complete and result.offset == arrived

    head = tus_head(owner, url)
    assert head["Upload-Offset"] == str(arrived)
    response = tus_patch(owner, url, arrived, data[arrived:])
    assert response.status_code == 204
    with school_context(school):
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.QUEUED
    assert Path(default_storage.path(asset.source_key)).read_bytes() == data


def test_tus_patch_at_the_wrong_offset_is_409_with_the_real_offset(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 1000, metadata())["Location"]
    assert tus_patch(owner, url, 0, b"a" * 400).status_code == 204

    for wrong in (0, 300, 500):
        response = tus_patch(owner, url, wrong, b"b" * 100)
        assert response.status_code == 409
        assert response["Upload-Offset"] == "400"
    assert tus_head(owner, url)["Upload-Offset"] == "400"


def test_tus_patch_needs_the_tus_content_type(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 1000, metadata())["Location"]
    response = tus_patch(owner, url, 0, b"x" * 10, content_type="application/octet-stream")
    assert response.status_code == 415
    assert tus_head(owner, url)["Upload-Offset"] == "0"


def test_tus_patch_past_the_upload_length_is_refused_and_writes_nothing(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 1000, metadata())["Location"]
    assert tus_patch(owner, url, 0, b"a" * 900).status_code == 204
    response = tus_patch(owner, url, 900, b"b" * 101)
    assert response.status_code == 413
    assert tus_head(owner, url)["Upload-Offset"] == "900"


def test_tus_requests_without_the_protocol_version_get_412(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = owner.post("/manage/videos/tus/", HTTP_UPLOAD_LENGTH="10")
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"
    with school_context(alpha.school):
        assert not VideoAsset.objects.exists()


def test_tus_create_without_a_length_or_with_bad_metadata_is_400(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    assert owner.post("/manage/videos/tus/", **TUS).status_code == 400
    assert tus_create(owner, 10, "filename %%%").status_code == 400
    assert tus_create(owner, 10, metadata(""), HTTP_UPLOAD_DEFER_LENGTH="1").status_code == 400
    assert tus_create(owner, 0, metadata()).status_code == 400
    with school_context(alpha.school):
        assert not VideoAsset.objects.exists()


def test_tus_patch_needs_the_csrf_token(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner, enforce_csrf_checks=True)
    owner.get("/manage/videos/")  # sets the csrftoken cookie
    token = owner.cookies["csrftoken"].value
    created = tus_create(owner, 100, metadata(), HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    url = created["Location"]
    assert tus_patch(owner, url, 0, b"x" * 100).status_code == 403
    assert tus_patch(owner, url, 0, b"x" * 100, HTTP_X_CSRFTOKEN=token).status_code == 204


def test_tus_terminate_deletes_an_unfinished_upload_but_not_a_finished_video(
    alpha, client_for, django_capture_on_commit_callbacks
):
    school = alpha.school
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 1000, metadata())["Location"]
    asset = asset_of(school, url)
    assert tus_patch(owner, url, 0, b"a" * 500).status_code == 204
    path = Path(default_storage.path(asset.source_key))
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.delete(url, **TUS)
    assert response.status_code == 204
    with school_context(school):
        assert not VideoAsset.objects.filter(pk=asset.pk).exists()
    assert not path.exists()
    assert tus_head(owner, url).status_code == 404

    finished = tus_create(owner, 10, metadata())["Location"]
    assert tus_patch(owner, finished, 0, b"z" * 10).status_code == 204
    assert owner.delete(finished, **TUS).status_code == 403
    with school_context(school):
        assert asset_of(school, finished).status == VideoAsset.Status.QUEUED


# --- access --------------------------------------------------------------------------------


def test_another_schools_upload_is_404_on_every_method(alpha, bravo, client_for):
    a_owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(a_owner, 1000, metadata())["Location"]
    assert tus_patch(a_owner, url, 0, b"a" * 100).status_code == 204

    b_owner = logged_in(client_for, BRAVO, bravo.owner)
    assert tus_head(b_owner, url).status_code == 404
    assert tus_patch(b_owner, url, 100, b"b" * 100).status_code == 404
    assert b_owner.delete(url, **TUS).status_code == 404
    asset = asset_of(alpha.school, url)
    assert b_owner.get(f"/manage/videos/{asset.pk}/status/").status_code == 404
    assert b_owner.get(f"/manage/videos/{asset.pk}/delete/").status_code == 404
    # Nothing changed for alpha.
    assert tus_head(a_owner, url)["Upload-Offset"] == "100"


def test_a_lesson_of_another_school_cannot_be_named_in_the_metadata(alpha, bravo, client_for):
    b_lesson = video_lesson(bravo.school, bravo.owner)
    a_owner = logged_in(client_for, ALPHA, alpha.owner)
    response = tus_create(a_owner, 1000, metadata(lesson=b_lesson))
    assert response.status_code == 404
    with school_context(alpha.school):
        assert not VideoAsset.objects.exists()


def test_students_get_403_and_anonymous_visitors_403_on_upload_endpoints(
    alpha, client_for, make_user
):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 1000, metadata())["Location"]
    asset = asset_of(alpha.school, url)
    student = logged_in(client_for, ALPHA, make_user(alpha.school, "student@alpha.test"))
    anonymous = client_for(ALPHA)
    for client in (student, anonymous):
        assert client.options("/manage/videos/tus/").status_code == 403
        assert tus_create(client, 10, metadata()).status_code == 403
        assert tus_head(client, url).status_code == 403
        assert tus_patch(client, url, 0, b"x" * 10).status_code == 403
        assert client.delete(url, **TUS).status_code == 403
    assert student.get("/manage/videos/").status_code == 403
    assert student.get(f"/manage/videos/{asset.pk}/status/").status_code == 403
    assert anonymous.get("/manage/videos/").status_code == 302
    assert tus_head(owner, url)["Upload-Offset"] == "0"


def test_an_instructor_may_not_delete_someone_elses_video(alpha, client_for, make_user):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 10, metadata())["Location"]
    asset = asset_of(alpha.school, url)
    teacher = make_user(alpha.school, "teacher@alpha.test", role="instructor")
    instructor = logged_in(client_for, ALPHA, teacher)
    assert instructor.delete(url, **TUS).status_code == 403
    assert instructor.post(f"/manage/videos/{asset.pk}/delete/").status_code == 302
    with school_context(alpha.school):
        assert VideoAsset.objects.filter(pk=asset.pk).exists()


# --- quota ---------------------------------------------------------------------------------


def test_a_video_larger_than_the_plan_allows_is_413_and_nothing_is_created(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    limit = alpha.school.plan.max_upload_bytes
    response = tus_create(owner, limit + 1, metadata())
    assert response.status_code == 413
    assert "your plan (Free) accepts videos up to" in response.content.decode()
    with school_context(alpha.school):
        assert not VideoAsset.objects.exists()
    assert not any(Path(default_storage.path(f"schools/{alpha.school.pk}")).glob("**/*.*"))


def test_storage_quota_is_checked_at_create_counting_uploads_in_progress(
    alpha, client_for, plan_limits
):
    plan_limits("free", max_storage_bytes=10 * MiB)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    assert tus_create(owner, 6 * MiB, metadata("one.mp4")).status_code == 201
    response = tus_create(owner, 5 * MiB, metadata("two.mp4"))
    assert response.status_code == 413
    assert "Not enough storage left" in response.content.decode()
    with school_context(alpha.school):
        assert VideoAsset.objects.count() == 1


def test_storage_quota_is_checked_again_when_the_upload_completes(
    alpha, client_for, django_capture_on_commit_callbacks, plan_limits
):
    school = alpha.school
    lesson = video_lesson(school, alpha.owner)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 2 * MiB, metadata(lesson=lesson))["Location"]
    asset = asset_of(school, url)
    # Meanwhile another video filled the storage (the plan shrank, a colleague uploaded…).
    plan_limits("free", max_storage_bytes=MiB)

    with django_capture_on_commit_callbacks(execute=True):
        response = tus_patch(owner, url, 0, payload(2 * MiB))
    assert response.status_code == 413
    assert "Not enough storage left" in response.content.decode()
    with school_context(school):
        asset.refresh_from_db()
        lesson.refresh_from_db()
    assert asset.status == VideoAsset.Status.FAILED
    assert "Not enough storage left" in asset.error_message
    assert lesson.video_id is None
    assert not Path(default_storage.path(asset.source_key)).exists()
    assert tus_head(owner, url).status_code == 410


# --- status partial, lesson panel, library ---------------------------------------------------


def _asset(school: Any, owner: User, **fields: Any) -> VideoAsset:
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="talk.mp4", size=1000)
        VideoAsset.objects.filter(pk=asset.pk).update(**fields)
        asset.refresh_from_db()
    return asset


def test_status_partial_shows_progress_and_polls_while_processing(alpha, client_for):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    asset = _asset(
        alpha.school,
        alpha.owner,
        status="processing",
        progress_percent=42,
        eta_seconds=150,
        source_bytes=1000,
    )
    html = owner.get(f"/manage/videos/{asset.pk}/status/").content.decode()
    assert 'data-video-status="processing"' in html
    assert "42%" in html and "about 2 min left" in html
    assert f'hx-get="/manage/videos/{asset.pk}/status/?' in html
    assert 'hx-trigger="every 2s"' in html

    with school_context(alpha.school):
        VideoAsset.objects.filter(pk=asset.pk).update(
            status="ready", duration_seconds=125.4, height=720, output_bytes=5 * MiB
        )
    html = owner.get(f"/manage/videos/{asset.pk}/status/").content.decode()
    assert 'data-video-status="ready"' in html and "2:05" in html and "720p" in html
    assert "hx-trigger" not in html  # finished: no more polling

    with school_context(alpha.school):
        VideoAsset.objects.filter(pk=asset.pk).update(
            status="failed", error_message="This file has no video stream."
        )
    html = owner.get(f"/manage/videos/{asset.pk}/status/").content.decode()
    assert "This file has no video stream." in html and "Try another file" in html
    assert "hx-trigger" not in html


def test_lesson_status_partial_shows_the_lessons_current_video(alpha, client_for):
    lesson = video_lesson(alpha.school, alpha.owner)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    html = owner.get(f"/manage/videos/lessons/{lesson.pk}/status/").content.decode()
    assert 'data-video-status="none"' in html and 'id="lesson-video-status"' in html
    asset = _asset(alpha.school, alpha.owner, status="queued", source_bytes=1000)
    with school_context(alpha.school):
        Lesson.objects.filter(pk=lesson.pk).update(video=asset)
    html = owner.get(f"/manage/videos/lessons/{lesson.pk}/status/").content.decode()
    assert 'data-video-status="queued"' in html
    assert f"/manage/videos/{asset.pk}/status/?lesson={lesson.pk}" in html


def test_lesson_editor_of_a_video_lesson_has_the_uploader(alpha, client_for):
    lesson = video_lesson(alpha.school, alpha.owner)
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = owner.get(f"/manage/courses/lessons/{lesson.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-video-uploader" in html
    assert "dist/uploader.js" in html
    config = re.search(r'data-config="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert "&quot;mode&quot;: &quot;tus&quot;" in config
    assert f"/manage/videos/tus/?lesson={lesson.pk}" in config


def test_library_lists_the_schools_videos_with_metering(alpha, bravo, client_for):
    _asset(
        alpha.school,
        alpha.owner,
        status="ready",
        source_bytes=3 * MiB,
        output_bytes=MiB,
        duration_seconds=61,
        title="Alpha intro",
    )
    _asset(bravo.school, bravo.owner, status="ready", source_bytes=MiB, title="Bravo secret")
    owner = logged_in(client_for, ALPHA, alpha.owner)
    response = owner.get("/manage/videos/")
    assert response.status_code == 200
    html = response.content.decode().replace("\xa0", " ")
    assert "Alpha intro" in html and "Bravo secret" not in html
    assert "4.0 MB" in html  # stored: source + renditions
    assert "1:01" in html
    assert "Storage" in html and "2.0 GB" in html  # of the Free plan's 2 GB
    assert response.context["used_bytes"] == 4 * MiB


def test_owner_deletes_a_video_from_the_library(
    alpha, client_for, django_capture_on_commit_callbacks
):
    owner = logged_in(client_for, ALPHA, alpha.owner)
    url = tus_create(owner, 10, metadata())["Location"]
    assert tus_patch(owner, url, 0, b"0123456789").status_code == 204
    asset = asset_of(alpha.school, url)
    path = Path(default_storage.path(asset.source_key))
    assert path.exists()
    confirm = owner.get(f"/manage/videos/{asset.pk}/delete/")
    assert confirm.status_code == 200 and "Delete video" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(f"/manage/videos/{asset.pk}/delete/", {"next": "https://evil.test/"})
    assert response.status_code == 302 and response["Location"] == "/manage/videos/"
    with school_context(alpha.school):
        assert not VideoAsset.objects.filter(pk=asset.pk).exists()
    assert not path.exists()


# --- against the real server -----------------------------------------------------------------


class LiveUploader:
    """Raw HTTP to live_app as a logged-in owner (session and CSRF cookies)."""

    def __init__(self, port: int, host: str, cookies: dict[str, str], csrf: str) -> None:
        self.port = port
        self.host = host
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.csrf = csrf

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Host": self.host,
            "Cookie": self.cookie,
            "X-CSRFToken": self.csrf,
            "Tus-Resumable": "1.0.0",
            **extra,
        }

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, method: str, path: str, **headers: str) -> http.client.HTTPResponse:
        conn = self.connection()
        conn.request(method, path, headers=self.headers(**headers))
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def patch(self, path: str, offset: int, length: int, chunk: bytes) -> http.client.HTTPResponse:
        """PATCH ``length`` bytes made by repeating ``chunk``, sent as they are made."""
        conn = self.connection()
        conn.putrequest("PATCH", path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers(
            **{
                "Upload-Offset": str(offset),
                "Content-Type": OCTETS,
                "Content-Length": str(length),
            }
        ).items():
            conn.putheader(name, value)
        conn.endheaders()
        sent = 0
        while sent < length:
            piece = chunk[: length - sent]
            conn.send(piece)
            sent += len(piece)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response


@pytest.fixture
def live_owner(live_app: Any, django_db_blocker: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh school on the live server (committed) and an uploader logged in as its owner."""
    from courseplatform.onboarding.services import create_school

    slug = f"up-{secrets.token_hex(4)}"
    with django_db_blocker.unblock():
        created = create_school(
            slug=slug,
            name="Upload Test",
            owner_email=f"owner@{slug}.test",
            owner_password="a-long-test-passphrase-42",
            owner_name="Owner",
            plan_code="free",
        )
        client = Client(HTTP_HOST=f"{slug}.localhost")
        with school_context(created.school):
            client.force_login(created.owner)
    csrf = secrets.token_hex(16)
    uploader = LiveUploader(
        live_app.port,
        f"{slug}.localhost:{live_app.port}",
        {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        csrf,
    )
    uploader.school = created.school  # type: ignore[attr-defined]
    uploader.owner = created.owner  # type: ignore[attr-defined]
    try:
        yield uploader
    finally:
        with django_db_blocker.unblock(), school_context(created.school):
            for asset in VideoAsset.objects.filter(school=created.school):
                with contextlib.suppress(OSError):
                    Path(default_storage.path(asset.source_key)).unlink(missing_ok=True)
                asset.delete()


def _server_pid(port: int) -> int:
    """The runserver process listening on ``port`` (live_app runs it with --noreload)."""
    needle = f"127.0.0.1:{port}"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"runserver" in argv and needle.encode() in argv:
            return int(entry.name)
    raise AssertionError(f"no runserver process for {needle}")


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


def _created_upload(uploader: LiveUploader, size: int, name: str) -> str:
    response = uploader.request(
        "POST",
        "/manage/videos/tus/",
        **{"Upload-Length": str(size), "Upload-Metadata": f"filename {b64(name)}"},
    )
    assert response.status == 201, response.status
    return response.getheader("Location") or ""


def test_live_upload_survives_a_dropped_connection_and_resumes(live_owner, django_db_blocker):
    size = 4 * MiB
    url = _created_upload(live_owner, size, "dropped.mp4")
    block = payload(MiB)

    # Announce 4 MiB, send 1.5 MiB, then the connection dies.
    conn = live_owner.connection()
    conn.putrequest("PATCH", url, skip_host=True, skip_accept_encoding=True)
    for name, value in live_owner.headers(
        **{"Upload-Offset": "0", "Content-Type": OCTETS, "Content-Length": str(size)}
    ).items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(block)
    conn.send(block[: MiB // 2])
    conn.sock.close()  # type: ignore[union-attr]

    deadline = time.monotonic() + 20
    offset = -1
    while time.monotonic() < deadline:
        head = live_owner.request("HEAD", url)
        assert head.status == 200
        offset = int(head.getheader("Upload-Offset") or -1)
        if offset == 3 * MiB // 2:
            break
        time.sleep(0.2)
    assert offset == 3 * MiB // 2

    rest = live_owner.patch(url, offset, size - offset, block)
    assert rest.status == 204
    assert rest.getheader("Upload-Offset") == str(size)
    with django_db_blocker.unblock(), school_context(live_owner.school):
        asset = VideoAsset.objects.get(school=live_owner.school)
        assert asset.status == VideoAsset.Status.QUEUED
        assert asset.source_bytes == size


def test_live_one_gib_upload_streams_to_disk_with_flat_server_memory(
    live_owner, live_app, django_db_blocker
):
    size = 1024 * MiB
    # Four 256 MiB PATCHes: a server that buffered a body would grow by >= 256 MiB.
    step = 256 * MiB
    pid = _server_pid(live_app.port)
    url = _created_upload(live_owner, size, "big.mp4")
    block = payload(4 * MiB)

    # Reset the process's peak RSS (Linux >= 4.0) so the peak measured is this upload's.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    before_peak = _status_kib(pid, "VmHWM")
    before_rss = _status_kib(pid, "VmRSS")
    started = time.monotonic()
    offset = 0
    max_rss = before_rss
    while offset < size:
        response = live_owner.patch(url, offset, step, block)
        assert response.status == 204, response.status
        offset += step
        assert response.getheader("Upload-Offset") == str(offset)
        max_rss = max(max_rss, _status_kib(pid, "VmRSS"))
        assert time.monotonic() - started < 300, "the 1 GiB upload took over 5 minutes"
    after_peak = _status_kib(pid, "VmHWM")

    growth_mib = (after_peak - before_peak) / 1024
    print(  # shown with -s: what the server's memory did during 1 GiB
        f"server RSS {before_rss / 1024:.0f} MiB before, max {max_rss / 1024:.0f} MiB during; "
        f"peak {before_peak / 1024:.0f} -> {after_peak / 1024:.0f} MiB"
    )
    assert growth_mib < 100, f"server peak RSS grew by {growth_mib:.0f} MiB"
    assert (max_rss - before_rss) / 1024 < 100

    with django_db_blocker.unblock(), school_context(live_owner.school):
        asset = VideoAsset.objects.get(school=live_owner.school)
        assert asset.status == VideoAsset.Status.QUEUED
        assert asset.source_bytes == size
        path = Path(default_storage.path(asset.source_key))
    assert path.stat().st_size == size
    with path.open("rb") as handle:
        for position in (0, 7 * MiB + 5, size - 4096):
            handle.seek(position)
            expected = (block * 2)[position % len(block) : position % len(block) + 4096]
            assert handle.read(4096) == expected


def test_abandoned_uploads_expire_with_their_bytes(
    alpha, client_for, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    owner = logged_in(client_for, ALPHA, alpha.owner)
    stale = tus_create(owner, 1000, metadata("old.mp4"))["Location"]
    assert tus_patch(owner, stale, 0, b"a" * 10).status_code == 204
    fresh = tus_create(owner, 1000, metadata("new.mp4"))["Location"]
    stale_asset = asset_of(alpha.school, stale)
    path = Path(default_storage.path(stale_asset.source_key))
    with school_context(alpha.school):
        VideoAsset.objects.filter(pk=stale_asset.pk).update(
            updated_at=timezone.now() - timedelta(days=8)
        )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_video_uploads", "--days", "7", stdout=io.StringIO())
    with school_context(alpha.school):
        assert not VideoAsset.objects.filter(pk=stale_asset.pk).exists()
    assert not path.exists()
    assert tus_head(owner, fresh).status_code == 200
