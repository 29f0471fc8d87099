"""Round trips on real S3 (SeaweedFS) with a real video transcoded by ffmpeg: export →
import into another school → export gives the same manifest (ids, slugs and timestamps
aside) and the same files, with the videos re-linked from their renditions, or
re-transcoded from their sources, or left "to upload again"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from courseplatform.courses.models import Course, Lesson
from courseplatform.ops import crypto
from courseplatform.portability.models import JobStatus
from courseplatform.tenancy.rls import school_context
from courseplatform.video import imports as video_imports
from courseplatform.video.models import Rendition, VideoAsset
from courseplatform.video.selectors import school_video_minutes
from courseplatform.video.services import attach_video_to_lesson
from courseplatform.video.tasks import run_transcode_job
from courseplatform.video.tests.transcode_media import Clip, make_clip, process

from .conftest import Rich, build_rich_course, comparable, read_zip
from .support import export_bytes, import_bytes

pytestmark = pytest.mark.django_db

CLIP = Clip("archive", 640, 360, seconds=2.0, display=(640, 360), rungs=("360p",))


@pytest.fixture
def s3_course(school_a: Any, s3_default_storage: Any, settings: Any, tmp_path: Path) -> Rich:
    """School A's course on S3, its video lesson playing a real transcoded clip."""
    settings.VIDEO_WORK_DIR = str(tmp_path / "work")
    (tmp_path / "work").mkdir()
    rich = build_rich_course(school_a.school, school_a.owner)
    clip = make_clip(tmp_path / "brush-demo.mp4", CLIP)
    outcome, asset = process(school_a.school, school_a.owner, clip)
    assert outcome == "ready" and asset.status == VideoAsset.Status.READY
    with school_context(school_a.school):
        attach_video_to_lesson(
            school=school_a.school, actor=school_a.owner, lesson=rich.lessons["video"], asset=asset
        )
    return rich


def _imported_asset(school: Any, job: Any) -> VideoAsset:
    with school_context(school):
        lesson = Lesson.objects.select_related("video").get(course_id=job.course_id, kind="video")
        assert lesson.video is not None
        return lesson.video


def test_round_trip_with_renditions_on_s3(s3_course: Rich, school_b: Any) -> None:
    a, b = s3_course, school_b
    first = export_bytes(a.school, a.owner, a.course, include_renditions=True, include_sources=True)
    manifest, files = read_zip(first)
    (video,) = manifest["videos"]
    assert video["hls"]["renditions"][0]["name"] == "360p"
    assert video["source"]["path"] == "videos/v1/source.mp4"
    assert any(f.endswith("/master.m3u8") for f in files) and "videos/v1/poster.jpg" in files

    job = import_bytes(b.school, b.owner, first)
    assert job.status == JobStatus.READY, job.error
    asset = _imported_asset(b.school, job)
    # Re-linked: playable at once, its files and key now B's.
    assert asset.status == VideoAsset.Status.READY
    assert asset.hls_prefix.startswith(f"schools/{b.school.pk}/videos/{asset.uuid}/")
    assert bytes.fromhex(video["hls"]["key"]) == crypto.decrypt(asset.encryption_key_ciphertext)
    with school_context(b.school):
        rendition = Rendition.objects.get(asset=asset)
        assert rendition.playlist_key == f"{asset.hls_prefix}360p/index.m3u8"
        from django.core.files.storage import default_storage

        assert default_storage.exists(rendition.playlist_key)
        assert default_storage.exists(asset.poster_key) and default_storage.exists(asset.source_key)
        copy = Course.objects.get(pk=job.course.pk)  # type: ignore[union-attr]
        assert school_video_minutes(school=b.school) == pytest.approx(
            (asset.duration_seconds or 0) / 60
        )

    second = export_bytes(b.school, b.owner, copy, include_renditions=True, include_sources=True)
    manifest_two, files_two = read_zip(second)
    assert comparable(manifest) == comparable(manifest_two)
    assert files == files_two
    # A's video is untouched.
    with school_context(a.school):
        assert (
            VideoAsset.objects.filter(school=a.school, status=VideoAsset.Status.READY).count() == 1
        )


def test_round_trip_from_sources_transcodes_again(s3_course: Rich, school_b: Any) -> None:
    a, b = s3_course, school_b
    first = export_bytes(a.school, a.owner, a.course, include_sources=True)
    manifest, files = read_zip(first)
    assert manifest["videos"][0]["hls"] is None and "videos/v1/source.mp4" in files

    job = import_bytes(b.school, b.owner, first)
    assert job.status == JobStatus.READY, job.error
    asset = _imported_asset(b.school, job)
    assert asset.status == VideoAsset.Status.QUEUED  # handed to the transcoder
    assert run_transcode_job(school_id=b.school.pk, asset_id=asset.pk) == "ready"
    with school_context(b.school):
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.READY
        assert list(Rendition.objects.filter(asset=asset).values_list("name", flat=True)) == [
            "360p"
        ]
        copy = Course.objects.get(pk=job.course.pk)  # type: ignore[union-attr]
    second = export_bytes(b.school, b.owner, copy, include_sources=True)
    manifest_two, files_two = read_zip(second)
    assert comparable(manifest) == comparable(manifest_two)
    assert files == files_two


def test_round_trip_without_video_files_keeps_upload_again(s3_course: Rich, school_b: Any) -> None:
    a, b = s3_course, school_b
    first = export_bytes(a.school, a.owner, a.course)
    manifest, files = read_zip(first)
    assert manifest["videos"][0]["source"] is None and manifest["videos"][0]["hls"] is None
    assert not any(name.startswith("videos/") for name in files)

    job = import_bytes(b.school, b.owner, first)
    assert job.status == JobStatus.READY, job.error
    assert any("uploaded again" in note for note in job.notes)
    asset = _imported_asset(b.school, job)
    assert asset.status == VideoAsset.Status.FAILED
    assert asset.error_message == video_imports.MISSING_MESSAGE
    assert asset.title == manifest["videos"][0]["title"]
    with school_context(b.school):
        assert school_video_minutes(school=b.school) == 0
        copy = Course.objects.get(pk=job.course.pk)  # type: ignore[union-attr]
    manifest_two, _ = read_zip(export_bytes(b.school, b.owner, copy))
    assert comparable(manifest) == comparable(manifest_two)


def test_download_link_on_s3_redirects_to_a_short_lived_presigned_url(s3_course: Rich) -> None:
    import urllib.request

    from django.core.files.storage import default_storage

    from courseplatform.portability.course_archive import jobs, links, services

    a = s3_course
    with school_context(a.school):
        job = services.request_export(school=a.school, actor=a.owner, course=a.course)
    assert jobs.run_export(school_id=a.school.pk, export_id=job.pk) == "ready"
    with school_context(a.school):
        job.refresh_from_db()
        path = links.download_path(job)
    response = a.client().get(path)
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=60) as served:
        body = served.read()
    with default_storage.open(job.archive_key, "rb") as fh:
        assert body == fh.read()
    # The same URL without its signature is refused by the bucket.
    import urllib.error

    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url.split("?", 1)[0], timeout=60)
