"""Probing uploads with PyAV, plan limits, the ladder choice and file-name hygiene."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from courseplatform.video.hls import (
    decrypt_segment,
    encrypt_segment,
    media_playlist,
    parse_media_playlist,
    segment_ivs,
)
from courseplatform.video.ladder import (
    SEGMENT_SECONDS,
    build_command,
    choose_ladder,
    gop_frames,
    poster_time,
)
from courseplatform.video.pipeline import (
    TranscodeError,
    TransientError,
    _classify_ffmpeg_failure,
    ffmpeg_exe,
)
from courseplatform.video.probe import (
    DAMAGED,
    NOT_A_VIDEO,
    ProbeError,
    check_limits,
    probe_file,
)
from courseplatform.video.services import sanitize_filename
from courseplatform.video.tests.transcode_media import CLIPS, make_clip


def _ffmpeg(args: str, output: Path) -> None:
    """Run ffmpeg with space-separated ``args`` writing ``output``."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args.split()]
    subprocess.run([*cmd, str(output)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    root = tmp_path_factory.mktemp("probe-clips")
    made: dict[str, Path] = {}

    def _get(name: str) -> Path:
        if name not in made:
            made[name] = make_clip(root / f"{name}.mp4", CLIPS[name])
        return made[name]

    return _get


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_probe_valid_clips(name: str, clip: Callable[[str], Path]) -> None:
    spec = CLIPS[name]
    result = probe_file(clip(name))
    assert result.duration_seconds == pytest.approx(spec.seconds, abs=0.1)
    assert (result.width, result.height) == (spec.width, spec.height)
    assert (result.display_width, result.display_height) == spec.display
    assert result.rotation == spec.rotation
    assert result.frame_rate == pytest.approx(spec.fps)
    assert result.has_audio is spec.audio
    assert result.video_codec == "h264"
    assert result.streams[0]["type"] == "video"
    assert result.as_json()["display_width"] == spec.display[0]


def test_probe_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"
    path.write_text("Dear students, the video will follow.\n")
    with pytest.raises(ProbeError) as exc:
        probe_file(path)
    assert str(exc.value) == NOT_A_VIDEO


def test_probe_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(bytes((i * 7919) % 251 for i in range(200_000)))
    with pytest.raises(ProbeError, match="not a video we can read"):
        probe_file(path)


def test_probe_truncated_mp4_is_damaged(clip: Callable[[str], Path], tmp_path: Path) -> None:
    data = clip("portrait_720x1280").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 4])  # moov atom (at the end) is lost
    with pytest.raises(ProbeError) as exc:
        probe_file(path)
    assert str(exc.value) == DAMAGED


def test_probe_faststart_mp4_with_garbage_data_is_damaged(tmp_path: Path) -> None:
    """Headers intact (moov first) but the picture data replaced by noise."""
    src = tmp_path / "fs.mp4"
    _ffmpeg(
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -preset ultrafast "
        "-movflags +faststart",
        src,
    )
    data = bytearray(src.read_bytes())
    mdat = data.find(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)  # zero every sample
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(ProbeError) as exc:
        probe_file(broken)
    assert str(exc.value) == DAMAGED


def test_probe_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(ProbeError, match="empty"):
        probe_file(path)


def test_probe_audio_only(tmp_path: Path) -> None:
    path = tmp_path / "talk.mp4"
    _ffmpeg("-f lavfi -i sine=duration=1 -c:a aac", path)
    with pytest.raises(ProbeError, match="sound but no picture"):
        probe_file(path)


def test_probe_zero_length_video(tmp_path: Path) -> None:
    """A container whose only video frame has no duration: an aborted recording."""
    path = tmp_path / "zero.mkv"
    _ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 1 -c:v libx264", path)
    with pytest.raises(ProbeError, match="no length"):
        probe_file(path)


def test_check_limits_messages(clip: Callable[[str], Path]) -> None:
    result = probe_file(clip("no_audio"))  # 3 s
    check_limits(
        result, size_bytes=10, max_upload_bytes=None, remaining_minutes=None,
        plan_name="Free", plan_minutes=None,
    )  # fmt: skip
    with pytest.raises(ProbeError, match=r"0\.1 minutes long.*only 0\.0 of its 120 video minutes"):
        check_limits(
            result, size_bytes=10, max_upload_bytes=None, remaining_minutes=0.01,
            plan_name="Free", plan_minutes=120,
        )  # fmt: skip
    with pytest.raises(ProbeError, match=r"your plan \(Free\) accepts videos up to 1 MB"):
        check_limits(
            result, size_bytes=5 * 1048576, max_upload_bytes=1048576, remaining_minutes=None,
            plan_name="Free", plan_minutes=None,
        )  # fmt: skip


# --- ladder ------------------------------------------------------------------------


def _dims(rungs: list) -> list[tuple[str, int, int]]:  # type: ignore[type-arg]
    return [(r.name, r.width, r.height) for r in rungs]


def test_ladder_1080p_landscape() -> None:
    assert _dims(choose_ladder(1920, 1080, 30)) == [
        ("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360),
    ]  # fmt: skip


def test_ladder_portrait_uses_short_side_and_never_upscales() -> None:
    assert _dims(choose_ladder(720, 1280, 30)) == [
        ("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640),
    ]  # fmt: skip
    assert _dims(choose_ladder(1080, 1920, 30))[0] == ("1080p", 1080, 1920)


def test_ladder_odd_size_even_dimensions() -> None:
    rungs = choose_ladder(853, 480, 30)
    assert [r.name for r in rungs] == ["480p", "360p"]
    for r in rungs:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= 853 and abs(r.width - r.height * 853 / 480) <= 2


def test_ladder_small_source_gets_one_native_rung() -> None:
    assert _dims(choose_ladder(320, 240, 25)) == [("240p", 320, 240)]
    assert _dims(choose_ladder(321, 181, 25)) == [("180p", 320, 180)]


def test_ladder_between_rungs_and_ultrawide() -> None:
    assert [r.name for r in choose_ladder(1000, 562, 30)] == ["480p", "360p"]
    wide = choose_ladder(2560, 1080, 30)
    assert (wide[0].width, wide[0].height) == (2560, 1080)
    assert (wide[1].width, wide[1].height) == (1706, 720)


@pytest.mark.parametrize(
    "w,h", [(1920, 1080), (1080, 1920), (853, 480), (1440, 1080), (3840, 2160)]
)
def test_ladder_invariants(w: int, h: int) -> None:
    for rung in choose_ladder(w, h, 29.97):
        assert rung.width <= w and rung.height <= h
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        assert abs(rung.width / rung.height - w / h) < 0.01
        assert rung.maxrate_kbps > rung.video_kbps and rung.bufsize_kbps == 2 * rung.video_kbps


def test_ladder_bitrates_and_high_frame_rate_boost() -> None:
    kbps = {r.name: r.video_kbps for r in choose_ladder(1920, 1080, 30)}
    assert kbps == {"1080p": 5000, "720p": 2800, "480p": 1400, "360p": 800}
    assert choose_ladder(1920, 1080, 60)[0].video_kbps == 7500


def test_gop_is_segment_length_in_frames() -> None:
    assert gop_frames(30) == 6 * 30
    assert gop_frames(60) == 360
    assert gop_frames(29.97) == 180
    assert gop_frames(120) == 360  # capped at 60 fps


def test_poster_time() -> None:
    assert poster_time(30) == 3.0
    assert poster_time(3600) == 30.0
    assert poster_time(0.5) == 0.05


def test_command_is_one_process_with_aligned_keyframes(tmp_path: Path) -> None:
    rungs = choose_ladder(1920, 1080, 30)
    cmd = build_command(
        ffmpeg="ffmpeg", source="in.mp4", out_dir=tmp_path, rungs=rungs, frame_rate=30,
        has_audio=True, duration_seconds=60, poster_path=tmp_path / "poster.jpg",
    )  # fmt: skip
    line = " ".join(cmd)
    assert cmd.count("-i") == 1
    assert "split=5" in line  # 4 rungs + poster
    for flag, value in [("-g", "180"), ("-keyint_min", "180"), ("-sc_threshold", "0"),
                        ("-hls_time", str(SEGMENT_SECONDS)), ("-hls_segment_type", "fmp4"),
                        ("-hls_playlist_type", "vod")]:  # fmt: skip
        assert cmd[cmd.index(flag) + 1] == value
    assert "expr:gte(t,n_forced*6)" in cmd
    assert "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:480p v:3,a:3,name:360p" in cmd
    no_audio = build_command(
        ffmpeg="ffmpeg", source="in.mp4", out_dir=tmp_path, rungs=rungs[:1], frame_rate=30,
        has_audio=False, duration_seconds=60,
    )  # fmt: skip
    assert "0:a:0" not in no_audio and "-c:a" not in no_audio
    assert "v:0,name:1080p" in no_audio


# --- playlists and encryption ---------------------------------------------------------


def test_media_playlist_template_round_trip() -> None:
    ivs = [bytes(range(16)), bytes(range(16, 32))]
    text = media_playlist([("seg_00001.m4s", 6.0), ("seg_00002.m4s", 2.5)], ivs=ivs)
    assert text.count("#EXT-X-KEY:") == 2
    assert (
        '#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x000102030405060708090a0b0c0d0e0f\n'
        "#EXTINF:6.000000,\nseg_00001.m4s\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x101112131415161718191a1b1c1d1e1f\n'
        "#EXTINF:2.500000,\nseg_00002.m4s\n"
    ) in text
    assert "#EXT-X-TARGETDURATION:6" in text and text.endswith("#EXT-X-ENDLIST\n")
    assert parse_media_playlist(text) == [("seg_00001.m4s", 6.0), ("seg_00002.m4s", 2.5)]
    assert segment_ivs(text) == [("seg_00001.m4s", ivs[0]), ("seg_00002.m4s", ivs[1])]


def test_media_playlist_refuses_a_missing_iv() -> None:
    with pytest.raises(ValueError, match="2 segments but 1 IVs"):
        media_playlist([("seg_00001.m4s", 6.0), ("seg_00002.m4s", 2.5)], ivs=[bytes(16)])


def test_segment_ivs_without_an_iv_attribute_is_the_media_sequence_number() -> None:
    """RFC 8216 §5.2: no IV attribute → the segment's media sequence number; an
    explicit IV holds until the next key line."""
    text = (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="key"\n#EXTINF:6,\na.m4s\n#EXTINF:6,\nb.m4s\n'
        '#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0X000000000000000000000000000000FF\n'
        "#EXTINF:6,\nc.m4s\n#EXTINF:6,\nd.m4s\n#EXT-X-ENDLIST\n"
    )
    assert segment_ivs(text) == [
        ("a.m4s", (7).to_bytes(16, "big")),
        ("b.m4s", (8).to_bytes(16, "big")),
        ("c.m4s", (255).to_bytes(16, "big")),
        ("d.m4s", (255).to_bytes(16, "big")),
    ]


def test_segment_encryption_is_hls_aes128() -> None:
    """Full-segment AES-128-CBC with PKCS#7, as `openssl aes-128-cbc -K -iv` produces."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, iv = bytes(range(16)), bytes(range(16, 32))
    data = b"fMP4 segment bytes" * 100
    encrypted = encrypt_segment(data, key=key, iv=iv)
    assert len(encrypted) % 16 == 0 and len(encrypted) > len(data)
    raw = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = raw.update(encrypted) + raw.finalize()
    assert plain[: len(data)] == data and plain[len(data) :] == bytes([16 - len(data) % 16]) * (
        16 - len(data) % 16
    )
    assert decrypt_segment(encrypted, key=key, iv=iv) == data


def test_ffmpeg_failures_are_classified() -> None:
    assert isinstance(_classify_ffmpeg_failure(-9, ""), TransientError)
    assert isinstance(_classify_ffmpeg_failure(1, "x: No space left on device"), TransientError)
    permanent = _classify_ffmpeg_failure(1, "Error while decoding stream #0:0\n")
    assert isinstance(permanent, TranscodeError)
    assert "Export it again" in str(permanent)


# --- file names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("My Holiday (1).MOV", "My_Holiday_1.mov"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\clip.mp4", "clip.mp4"),
        ("\u00dcbung \u2013 Teil 2.mp4", "Ubung_Teil_2.mp4"),
        ("...", "video"),
        (".mp4", "video.mp4"),
        ("视频.mkv", "video.mkv"),
        ("a" * 300 + ".mp4", "a" * 116 + ".mp4"),
    ],
)
def test_sanitize_filename(given: str, expected: str) -> None:
    assert sanitize_filename(given) == expected


def test_probe_skips_cover_picture_stream(clip: Callable[[str], Path], tmp_path: Path) -> None:
    """Files may carry a cover picture as a second "video" stream: the real video is the
    one probed and mapped (by absolute index) into the ladder."""
    cover = tmp_path / "cover.jpg"
    _ffmpeg("-f lavfi -i color=c=red:size=320x320 -frames:v 1", cover)
    out = tmp_path / "with-cover.mp4"
    _ffmpeg(
        f"-i {cover} -i {clip('no_audio')} -map 0 -map 1 -c copy -disposition:v:0 attached_pic",
        out,
    )
    result = probe_file(out)
    assert result.streams[result.video_stream]["codec"] == "h264"
    assert result.audio_stream is None
    assert (result.display_width, result.display_height) == (640, 360)
    cmd = build_command(
        ffmpeg="ffmpeg", source=out, out_dir=tmp_path, rungs=choose_ladder(640, 360, 30),
        frame_rate=30, has_audio=False, duration_seconds=3, video_stream=result.video_stream,
    )  # fmt: skip
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.startswith(f"[0:{result.video_stream}]split=")
