"""Pipeline helpers around the transcode: knobs read from the environment, a configured
ffmpeg binary, the fallback poster (real ffmpeg), refusing to overwrite a stored file,
and refusing another school's asset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from courseplatform.tenancy.rls import school_context
from courseplatform.video import pipeline, services
from courseplatform.video.ladder import Rung
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    clip_dir_fixture,
    clip_path_fixture,
    local_media_fixture,
)

KNOB = "VIDEO_TEST_ONLY_KNOB"


def test_video_setting_reads_the_environment_when_django_has_no_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KNOB, raising=False)
    assert pipeline.video_setting(KNOB, 4) == 4
    monkeypatch.setenv(KNOB, "")
    assert pipeline.video_setting(KNOB, 4) == 4
    monkeypatch.setenv(KNOB, "7")
    assert pipeline.video_setting(KNOB, 4) == 7
    assert pipeline.video_setting(KNOB, None) == "7"


def test_ffmpeg_exe_prefers_the_configured_binary(settings: Any) -> None:
    settings.VIDEO_FFMPEG_BINARY = "/opt/ffmpeg/bin/ffmpeg"
    assert pipeline.ffmpeg_exe() == "/opt/ffmpeg/bin/ffmpeg"


def test_extract_poster_past_the_end_falls_back_to_the_first_frame(
    clip_path: Callable[[str], Path], tmp_path: Path
) -> None:
    poster = tmp_path / "poster.jpg"
    rung = Rung(name="360p", width=640, height=360, video_kbps=800)
    pipeline.extract_poster(clip_path("no_audio"), poster, at=100_000.0, rung=rung)
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 360)


@pytest.mark.django_db
def test_upload_refuses_to_rename_around_an_existing_file(
    local_media: Path, tmp_path: Path
) -> None:
    key = "schools/1/videos/x/hls/master.m3u8"
    default_storage.save(key, ContentFile(b"old"))
    fresh = tmp_path / "master.m3u8"
    fresh.write_bytes(b"#EXTM3U\n")
    with pytest.raises(pipeline.TransientError, match="an old file was in the way"):
        pipeline._put(fresh, key)
    _, files = default_storage.listdir("schools/1/videos/x/hls")
    assert files == ["master.m3u8"]
    with default_storage.open(key, "rb") as stored:
        assert stored.read() == b"old"


@pytest.mark.django_db
def test_process_asset_refuses_an_asset_of_another_school(
    school_a: Any, school_b: Any, local_media: Path
) -> None:
    with school_context(school_a.school):
        asset = services.create_asset(
            school=school_a.school, actor=school_a.owner, filename="a.mp4", size=10
        )
    with pytest.raises(ValueError, match="another school"):
        pipeline.process_asset(school=school_b.school, asset=asset)
