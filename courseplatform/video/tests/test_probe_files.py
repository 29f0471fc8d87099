"""probe_file on the awkward files instructors really upload, made with real ffmpeg:
pictures and subtitles renamed .mp4, oversized frames, day-long clips, odd clocks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from courseplatform.video.pipeline import ffmpeg_exe
from courseplatform.video.probe import (
    MAX_DIMENSION,
    NOT_A_VIDEO,
    ProbeError,
    check_limits,
    probe_file,
)
from courseplatform.video.tests.test_probe import _ffmpeg


def test_probe_missing_file_asks_for_a_new_upload(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match=r"could not be found\. Upload it again"):
        probe_file(tmp_path / "gone.mp4")


def test_probe_directory_named_like_a_video_is_not_a_video(tmp_path: Path) -> None:
    folder = tmp_path / "lesson.mp4"
    folder.mkdir()
    (folder / "inside.txt").write_text("x")
    with pytest.raises(ProbeError) as raised:
        probe_file(folder)
    assert str(raised.value) == NOT_A_VIDEO


def test_probe_jpeg_renamed_mp4_is_not_a_video(tmp_path: Path) -> None:
    picture = tmp_path / "slide.jpg"
    _ffmpeg("-f lavfi -i testsrc2=size=320x240 -frames:v 1", picture)
    renamed = tmp_path / "slide.mp4"
    picture.rename(renamed)
    with pytest.raises(ProbeError) as raised:
        probe_file(renamed)
    assert str(raised.value) == NOT_A_VIDEO


def test_probe_subtitles_only_file_is_not_a_video(tmp_path: Path) -> None:
    subtitles = tmp_path / "captions.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello\n")
    path = tmp_path / "captions.mkv"
    _ffmpeg(f"-i {subtitles}", path)
    with pytest.raises(ProbeError) as raised:
        probe_file(path)
    assert str(raised.value) == NOT_A_VIDEO


@pytest.mark.parametrize("size", [(MAX_DIMENSION + 8, 64), (64, MAX_DIMENSION + 8)])
def test_probe_refuses_frames_larger_than_8k(tmp_path: Path, size: tuple[int, int]) -> None:
    width, height = size
    path = tmp_path / "huge.mp4"
    _ffmpeg(
        f"-f lavfi -i testsrc2=size={width}x{height}:rate=1 -frames:v 1 -c:v libx264 "
        "-preset ultrafast",
        path,
    )
    with pytest.raises(ProbeError) as raised:
        probe_file(path)
    assert str(raised.value).startswith(f"This video is {width}x{height} pixels;")
    assert f"largest size we accept is {MAX_DIMENSION} pixels" in str(raised.value)


def test_probe_accepts_exactly_8k(tmp_path: Path) -> None:
    path = tmp_path / "edge.mp4"
    _ffmpeg(
        f"-f lavfi -i testsrc2=size={MAX_DIMENSION}x64:rate=2 -frames:v 2 -c:v libx264 "
        "-preset ultrafast",
        path,
    )
    result = probe_file(path)
    assert (result.width, result.height) == (MAX_DIMENSION, 64)


def test_probe_refuses_videos_longer_than_12_hours(tmp_path: Path) -> None:
    """Fourteen frames, one an hour: tiny, but fourteen hours long."""
    path = tmp_path / "timelapse.mkv"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=64x64:rate=1/3600 -frames:v 14 -c:v libx264 -preset ultrafast",
        path,
    )
    with pytest.raises(ProbeError, match=r"14\.0 hours long; the longest we accept is 12 hours"):
        probe_file(path)


def test_probe_implausible_frame_rate_falls_back_to_30(tmp_path: Path) -> None:
    """A slideshow at one frame every two seconds: the ladder needs a usable rate."""
    path = tmp_path / "slideshow.mp4"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=64x64:rate=1/2 -frames:v 3 -c:v libx264 -preset ultrafast",
        path,
    )
    result = probe_file(path)
    assert result.duration_seconds == pytest.approx(6.0, abs=0.1)
    assert result.frame_rate == 30.0


def test_probe_mpegts_whose_clock_starts_late_is_usable(tmp_path: Path) -> None:
    """Broadcast and camera recordings often start their timestamps hours in; that is
    not a damaged file (the first frame is at the start, just not at zero)."""
    path = tmp_path / "recording.ts"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=64x64:rate=25 -frames:v 25 -c:v libx264 -preset ultrafast "
        "-output_ts_offset 36000",
        path,
    )
    result = probe_file(path)
    assert result.container == "mpegts"
    assert result.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert result.frame_rate == 25.0


def test_probe_ignores_a_rotate_tag_that_ffmpeg_would_not_apply(tmp_path: Path) -> None:
    """Only the display matrix rotates a video when ffmpeg transcodes it; a free-form
    tag must not make the probe promise a portrait ladder the transcode will not make."""
    path = tmp_path / "tagged.mkv"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 25 -c:v libx264 -preset ultrafast "
        "-metadata:s:v:0 rotate=90",
        path,
    )
    result = probe_file(path)
    assert result.rotation == 0
    assert (result.display_width, result.display_height) == (96, 64)


def test_check_limits_accepts_a_video_that_fits_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "fits.mp4"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=64x64:rate=25 -frames:v 50 -c:v libx264 -preset ultrafast",
        path,
    )
    result = probe_file(path)  # 2 s
    check_limits(
        result, size_bytes=path.stat().st_size, max_upload_bytes=path.stat().st_size,
        remaining_minutes=2 / 60, plan_name="Free", plan_minutes=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "codec"),
    [("recording.webm", "-c:v libvpx -f webm"), ("stream.mkv", "-c:v libx264 -f matroska")],
)
def test_probe_streamed_recording_without_header_duration_is_measured(
    tmp_path: Path, name: str, codec: str
) -> None:
    """Written to a pipe, as a browser's MediaRecorder or a streaming tool does: the header
    never gets its duration, so the length comes from the packets."""
    path = tmp_path / name
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-frames:v", "50",
        *codec.split(), "pipe:1",
    ]  # fmt: skip
    with path.open("wb") as out:
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.PIPE, timeout=120)
    result = probe_file(path)
    assert result.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert (result.width, result.height, result.frame_rate) == (64, 64, 25.0)


def test_probe_raw_h264_stream_without_timestamps_has_no_length(tmp_path: Path) -> None:
    path = tmp_path / "camera.mp4"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=64x64:rate=25 -frames:v 25 -c:v libx264 -preset ultrafast "
        "-f h264",
        path,
    )
    with pytest.raises(ProbeError, match="no length"):
        probe_file(path)
