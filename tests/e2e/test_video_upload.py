"""An instructor uploads a lesson's video in Chromium against the real app (tus, local
storage): progress bar, pause and resume, a page reload in the middle that resumes
from where the server stopped, and the status switching to "waiting to process".

The page's upload bandwidth is throttled through the DevTools protocol
(``Network.emulateNetworkConditions``) so the progress can be seen, and screenshotted,
half-way. The clip is a 2 s test pattern made with the ffmpeg of ``imageio-ffmpeg``.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from courseplatform.courses import services as course_services
from courseplatform.courses.models import Lesson
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
THROTTLED_BYTES_PER_SECOND = 48 * 1024


def _percent(page: Page) -> int:
    text = page.locator('[data-video-uploader] [data-role="percent"]').inner_text()
    return int(text.strip().rstrip("%") or 0)


def _wait_for_percent(page: Page, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = _percent(page)
        if value >= at_least:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"upload progress stayed below {at_least}% (last {_percent(page)}%)")


def _throttle(cdp: Any, bytes_per_second: int) -> None:
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 2 s 720p test pattern with a tone (~1.5 MB at this bitrate)."""
    import imageio_ffmpeg

    out = tmp_path / "lesson-clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "6M",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture
def instructor_page(
    live_app: LiveApp, chromium_browser: Browser, django_db_blocker: Any
) -> Iterator[tuple[Page, Any, Lesson]]:
    """A new school with a video lesson; a browser page logged in as its owner."""
    from courseplatform.onboarding.services import create_school

    slug = f"e2e-up-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        created = create_school(
            slug=slug,
            name="Upload School",
            owner_email=f"owner@{slug}.test",
            owner_password="a-long-test-passphrase-42",
            owner_name="Olivia Owner",
            plan_code="free",
        )
        school, owner = created.school, created.owner
        with school_context(school):
            course = course_services.create_course(
                school=school, actor=owner, title="Filmmaking 101"
            )
            section = course_services.add_section(
                school=school, actor=owner, course=course, title="Getting started"
            )
            lesson = course_services.add_lesson(
                school=school,
                actor=owner,
                section=section,
                title="Welcome to the course",
                kind=Lesson.Kind.VIDEO,
            )
            client = Client(HTTP_HOST=f"{slug}.localhost")
            client.force_login(owner)
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_app.url(f"{slug}.", "/"),
            }
        ]
    )
    page = context.new_page()
    try:
        yield page, school, lesson
    finally:
        context.close()
        with django_db_blocker.unblock(), school_context(school):
            from django.core.files.storage import default_storage

            for asset in VideoAsset.objects.filter(school=school):
                Path(default_storage.path(asset.source_key)).unlink(missing_ok=True)


def test_instructor_uploads_a_lesson_video_with_progress_pause_and_resume_after_reload(
    live_app: LiveApp, instructor_page: tuple[Page, Any, Lesson], clip: Path, django_db_blocker
) -> None:
    page, school, lesson = instructor_page
    editor_url = live_app.url(f"{school.slug}.", f"/manage/courses/lessons/{lesson.pk}/")
    response = page.goto(editor_url)
    assert response is not None and response.status == 200
    uploader = page.locator("[data-video-uploader]")
    expect(uploader).to_be_visible()
    expect(page.locator("#lesson-video-status")).to_have_attribute("data-video-status", "none")
    expect(uploader).to_have_attribute("data-state", "idle")

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    _throttle(cdp, THROTTLED_BYTES_PER_SECOND)

    # --- upload starts; the progress bar moves -------------------------------------------
    page.locator('[data-role="input"]').set_input_files(str(clip))
    expect(uploader).to_have_attribute("data-state", "uploading")
    expect(page.locator('[data-role="filename"]')).to_have_text("lesson-clip.mp4")
    _wait_for_percent(page, 12)
    assert _percent(page) < 100
    bar = page.locator('[data-role="bar"]')
    assert 0 < int(bar.get_attribute("aria-valuenow") or 0) < 100
    expect(page.locator('[data-role="detail"]')).to_contain_text(" of ")
    page.locator("#lesson-video").scroll_into_view_if_needed()
    screenshot(page, "video-upload-progress-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.locator("#lesson-video").scroll_into_view_if_needed()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(page, "video-upload-progress-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0, f"the lesson editor scrolls sideways by {overflow}px at 375px"
    assert _percent(page) < 100, "the screenshots should show the upload half-way"

    # --- pause and resume -----------------------------------------------------------------
    page.locator('[data-role="pause"]').click()
    expect(uploader).to_have_attribute("data-state", "paused")
    expect(page.locator('[data-role="pause"]')).to_have_text("Resume")
    paused_at = _percent(page)
    page.wait_for_timeout(1500)
    assert _percent(page) == paused_at
    page.locator('[data-role="pause"]').click()
    expect(uploader).to_have_attribute("data-state", "uploading")
    _wait_for_percent(page, paused_at + 5)

    # --- a reload in the middle: choosing the same file continues ---------------------------
    page.reload()
    expect(uploader).to_have_attribute("data-state", "idle")
    expect(page.locator('[data-role="resume"]')).to_be_visible()
    expect(page.locator('[data-role="resume-name"]')).to_have_text("lesson-clip.mp4")
    with django_db_blocker.unblock(), school_context(school):
        deadline = time.monotonic() + 15
        received = 0
        while time.monotonic() < deadline and received == 0:
            asset = VideoAsset.objects.get(school=school)
            received = asset.uploaded_bytes
            time.sleep(0.2)
    assert 0 < received < clip.stat().st_size

    _throttle(cdp, -1)
    page.locator('[data-role="input"]').set_input_files(str(clip))
    expect(page.locator('[data-role="percent"]')).to_have_text("100%")
    expect(uploader).to_have_attribute("data-state", "done")
    expect(page.locator('[data-role="detail"]')).to_contain_text("Processing starts now")
    status = page.locator("#lesson-video-status")
    expect(status).to_have_attribute("data-video-status", re.compile(r"^(queued|processing)$"))
    expect(status).to_contain_text(re.compile("Waiting to process|Processing"))
    expect(page.locator('[data-role="resume"]')).to_be_hidden()
    screenshot(page, "video-upload-done-desktop")

    with django_db_blocker.unblock(), school_context(school):
        assets = list(VideoAsset.objects.filter(school=school))
        lesson.refresh_from_db()
    assert len(assets) == 1, "the reload resumed the same upload instead of starting over"
    asset = assets[0]
    assert asset.status in (VideoAsset.Status.QUEUED, VideoAsset.Status.PROCESSING)
    assert asset.source_bytes == clip.stat().st_size
    assert lesson.video_id == asset.pk

    # The library lists it with its size and the storage meter.
    page.goto(live_app.url(f"{school.slug}.", "/manage/videos/"))
    expect(page.locator(f'[data-video="{asset.pk}"]')).to_contain_text("lesson-clip.mp4")
    expect(page.locator('[data-meter="storage"]')).to_contain_text("2.0 GB")
    screenshot(page, "video-library-desktop")


# --- S3/R2: the browser PUTs parts straight to the bucket ----------------------------------


@pytest.fixture
def s3_live_app(live_app: LiveApp, s3_server: Any, tmp_path: Path) -> Iterator[LiveApp]:
    """A second runserver like ``live_app`` (same database) whose storage is the
    SeaweedFS bucket, with the CORS rules a production bucket needs for browser PUTs."""
    import sys
    import urllib.request

    from tests.fixtures.browser import REPO_ROOT, _free_port, _stop_process_group

    s3_server.client().put_bucket_cors(
        Bucket=s3_server.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["GET", "HEAD", "PUT"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "PORT": str(port),
            "PLATFORM_PORT": str(port),
            "PLATFORM_DOMAIN": "localhost",
            "PYTHONUNBUFFERED": "1",
            "S3_BUCKET": s3_server.bucket,
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "AWS_REGION": s3_server.region,
            "AWS_ACCESS_KEY_ID": s3_server.access_key,
            "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        }
    )
    log_path = tmp_path / "runserver-s3.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        yield LiveApp(port=port, log_path=log_path)
    finally:
        _stop_process_group(process, 10)


def test_instructor_uploads_straight_to_the_bucket_in_parts(
    s3_live_app: LiveApp,
    s3_server: Any,
    instructor_page: tuple[Page, Any, Lesson],
    clip: Path,
    tmp_path: Path,
    django_db_blocker: Any,
) -> None:
    page, school, lesson = instructor_page
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": next(
                    c["value"] for c in page.context.cookies() if c["name"] == "sessionid"
                ),
                "url": s3_live_app.url(f"{school.slug}.", "/"),
            }
        ]
    )
    # 12 MiB: the clip padded, so the upload takes two parts (8 MiB + the rest).
    big = tmp_path / "long-lesson.mp4"
    big.write_bytes(clip.read_bytes() + os.urandom(12 * 1024 * 1024 - clip.stat().st_size))
    parts: list[str] = []
    page.on(
        "request",
        lambda request: (
            parts.append(request.url)
            if request.method == "PUT" and "partNumber=" in request.url
            else None
        ),
    )

    page.goto(s3_live_app.url(f"{school.slug}.", f"/manage/courses/lessons/{lesson.pk}/"))
    uploader = page.locator("[data-video-uploader]")
    expect(uploader).to_be_visible()
    assert '"mode": "s3"' in (uploader.get_attribute("data-config") or "")
    page.locator('[data-role="input"]').set_input_files(str(big))
    expect(page.locator('[data-role="percent"]')).to_have_text("100%")
    expect(uploader).to_have_attribute("data-state", "done")
    status = page.locator("#lesson-video-status")
    expect(status).to_have_attribute("data-video-status", re.compile(r"^(queued|processing)$"))

    assert len(parts) == 2 and all(url.startswith(s3_server.endpoint_url) for url in parts)
    with django_db_blocker.unblock(), school_context(school):
        asset = VideoAsset.objects.get(school=school)
        lesson.refresh_from_db()
    assert asset.source_bytes == big.stat().st_size
    assert lesson.video_id == asset.pk
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=asset.source_key)
    assert head["ContentLength"] == big.stat().st_size
    assert not page.evaluate(
        "() => Object.keys(localStorage).filter((k) => k.startsWith('cp-s3::'))"
    )
