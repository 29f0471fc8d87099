"""Small generated inputs for the video tests (real ffmpeg, lavfi test sources).

``make_clip(path, ...)`` writes a short H.264/AAC MP4; ``CLIPS`` names the
shapes the tests cover. ``analyse_outputs`` reads a transcoded asset back from
storage, decrypts it and checks every structural promise of the pipeline; other
test modules (playback, uploads) may reuse both.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest
from django.core.files import File
from django.core.files.storage import default_storage

from courseplatform.ops.crypto import decrypt
from courseplatform.tenancy.rls import school_context
from courseplatform.video import services
from courseplatform.video.hls import decrypt_segment, parse_media_playlist, segment_ivs
from courseplatform.video.ladder import SEGMENT_SECONDS
from courseplatform.video.models import VideoAsset
from courseplatform.video.pipeline import ffmpeg_exe
from courseplatform.video.tasks import run_transcode_job


@dataclass(frozen=True)
class Clip:
    name: str
    width: int
    height: int
    seconds: float = 3.0
    fps: int = 30
    audio: bool = True
    rotation: int = 0  # display rotation written into the container
    # expected upright size and rung names
    display: tuple[int, int] = (0, 0)
    rungs: tuple[str, ...] = ()


CLIPS = {
    "landscape_1080p": Clip(
        "landscape_1080p", 1920, 1080, seconds=2.5, display=(1920, 1080),
        rungs=("1080p", "720p", "480p", "360p"),
    ),
    "portrait_720x1280": Clip(
        "portrait_720x1280", 720, 1280, display=(720, 1280), rungs=("720p", "480p", "360p")
    ),
    "odd_853x480": Clip("odd_853x480", 853, 480, display=(853, 480), rungs=("480p", "360p")),
    "rotated_phone": Clip(
        "rotated_phone", 1280, 720, rotation=90, display=(720, 1280),
        rungs=("720p", "480p", "360p"),
    ),
    "no_audio": Clip(
        "no_audio", 640, 360, audio=False, display=(640, 360), rungs=("360p",)
    ),
    "fps60": Clip(
        "fps60", 1280, 720, seconds=2.0, fps=60, display=(1280, 720),
        rungs=("720p", "480p", "360p"),
    ),
    # longer than two segments, to see keyframes line up at 6 s and 12 s
    "long_odd": Clip(
        "long_odd", 853, 480, seconds=13.0, display=(853, 480), rungs=("480p", "360p")
    ),
}  # fmt: skip


def make_clip(path: Path, clip: Clip) -> Path:
    """Write ``clip`` as an MP4 at ``path`` (testsrc2 picture + sine tone)."""
    # testsrc2 rounds odd sizes down, and 4:2:0 needs even ones: an odd size (853x480)
    # is scaled to and stored as 4:4:4, which H.264 allows.
    odd = clip.width % 2 or clip.height % 2
    even_w, even_h = clip.width + clip.width % 2, clip.height + clip.height % 2
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i",
        f"testsrc2=size={even_w}x{even_h}:rate={clip.fps}:duration={clip.seconds}",
    ]  # fmt: skip
    if clip.audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={clip.seconds}"]
    if odd:
        cmd += ["-vf", f"scale={clip.width}:{clip.height},setsar=1,format=yuv444p"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast"]
    cmd += [] if odd else ["-pix_fmt", "yuv420p"]
    if clip.audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-shortest"]
    tmp = path.with_suffix(".tmp.mp4") if clip.rotation else path
    subprocess.run([*cmd, str(tmp)], check=True, capture_output=True)
    if clip.rotation:
        # Like a phone: landscape frames + a display matrix telling players to rotate.
        rotate = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-display_rotation", str(clip.rotation), "-i", str(tmp), "-c", "copy", str(path),
        ]  # fmt: skip
        subprocess.run(rotate, check=True, capture_output=True)
        tmp.unlink()
    return path


@dataclass
class RungReport:
    name: str
    width: int
    height: int
    extinf: list[float]
    keyframe_times: list[float]  # start time of each segment (its first packet, a keyframe)
    decoded_size: tuple[int, int]
    has_audio: bool
    playlist: str


@dataclass
class OutputReport:
    master: str
    rungs: dict[str, RungReport] = field(default_factory=dict)
    poster_size: tuple[int, int] = (0, 0)
    keys: list[str] = field(default_factory=list)
    ivs: list[bytes] = field(default_factory=list)  # every segment's, all renditions


_ATTR = re.compile(r'([A-Z-]+)=("[^"]*"|[^,]*)')


def master_variants(master: str) -> list[dict[str, str]]:
    variants: list[dict[str, str]] = []
    lines = master.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = {k: v.strip('"') for k, v in _ATTR.findall(line.split(":", 1)[1])}
            attrs["URI"] = lines[i + 1].strip()
            variants.append(attrs)
    return variants


def list_keys(prefix: str) -> list[str]:
    """Every storage key under ``prefix`` (local or S3)."""
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:
        return sorted(o.key for o in bucket.objects.filter(Prefix=prefix))
    found: list[str] = []

    def walk(path: str) -> None:
        try:
            dirs, files = default_storage.listdir(path)
        except FileNotFoundError:
            return
        found.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    walk(prefix.rstrip("/"))
    return sorted(found)


def _read(key: str) -> bytes:
    with default_storage.open(key, "rb") as fh:
        data: bytes = fh.read()
    return data


def analyse_outputs(asset: VideoAsset) -> OutputReport:
    """Fetch, decrypt and parse everything the pipeline stored for ``asset``."""
    key = decrypt(asset.encryption_key_ciphertext)
    assert len(key) == 16
    hls = asset.hls_prefix
    master = _read(f"{hls}master.m3u8").decode()
    report = OutputReport(master=master, keys=list_keys(asset.storage_prefix))
    for variant in master_variants(master):
        name = variant["URI"].split("/")[0]
        playlist = _read(f"{hls}{variant['URI']}").decode()
        init = _read(f"{hls}{name}/init.mp4")
        segments = segment_ivs(playlist)
        starts: list[float] = []
        decoded: tuple[int, int] = (0, 0)
        has_audio = False
        for index, (uri, iv) in enumerate(segments):
            data = _read(f"{hls}{name}/{uri}")
            clear = decrypt_segment(data, key=key, iv=iv)
            assert clear[4:8] in (b"styp", b"moof"), f"{name}/{uri} is not fMP4 after decrypting"
            if index:  # the IV matters: the previous segment's one garbles the first block
                wrong = decrypt_segment(data, key=key, iv=segments[index - 1][1])
                assert wrong[:16] != clear[:16] and wrong[16:] == clear[16:]
            info = _first_video_packet(init + clear)
            assert info["keyframe"], f"{name}/{uri} does not start with a keyframe"
            starts.append(info["time"])
            decoded = info["size"]
            has_audio = info["audio"]
            report.ivs.append(iv)
        report.rungs[name] = RungReport(
            name=name,
            width=int(variant["RESOLUTION"].split("x")[0]),
            height=int(variant["RESOLUTION"].split("x")[1]),
            extinf=[s for _, s in parse_media_playlist(playlist)],
            keyframe_times=starts,
            decoded_size=decoded,
            has_audio=has_audio,
            playlist=playlist,
        )
    from PIL import Image

    with Image.open(io.BytesIO(_read(asset.poster_key))) as image:
        assert image.format == "JPEG"
        report.poster_size = image.size
    return report


def _first_video_packet(data: bytes) -> dict[str, Any]:
    """The first video packet of an init+segment concatenation, and the decoded size."""
    with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
        video = container.streams.video[0]
        audio = bool(container.streams.audio)
        first: Any = None
        size = (0, 0)
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            if first is None:
                first = packet
            frames = packet.decode()
            if frames:
                size = (frames[0].width, frames[0].height)
                break
        if first is None:
            raise AssertionError("segment has no video packets")
        return {
            "keyframe": first.is_keyframe,
            "time": float(first.pts * first.time_base),
            "size": size,
            "audio": audio,
        }


# --- fixtures and the upload → job path, shared by the video tests --------------------
# (import the *_fixture names into a test module to use them)


@pytest.fixture(scope="session", name="clip_dir")
def clip_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session", name="clip_path")
def clip_path_fixture(clip_dir: Path) -> Callable[[str], Path]:
    made: dict[str, Path] = {}

    def _get(name: str) -> Path:
        if name not in made:
            made[name] = make_clip(clip_dir / f"{name}.mp4", CLIPS[name])
        return made[name]

    return _get


@pytest.fixture(name="local_media")
def local_media_fixture(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Local storage in a private dir, and a private temp work dir."""
    media = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
    }
    settings.VIDEO_WORK_DIR = str(tmp_path / "work")
    yield media


def upload(school: Any, owner: Any, path: Path, *, filename: str | None = None) -> VideoAsset:
    """What the upload layer does: create the asset, store the bytes, start processing."""
    with school_context(school):
        asset = services.create_asset(
            school=school,
            actor=owner,
            filename=filename or path.name,
            size=path.stat().st_size,
        )
        with path.open("rb") as fh:
            saved = default_storage.save(asset.source_key, File(fh))
        assert saved == asset.source_key
        services.start_processing(school=school, asset=asset)
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.QUEUED
    return asset


def process(school: Any, owner: Any, path: Path, **kwargs: Any) -> tuple[str, VideoAsset]:
    asset = upload(school, owner, path, **kwargs)
    outcome = run_transcode_job(school_id=school.pk, asset_id=asset.pk)
    with school_context(school):
        asset.refresh_from_db()
    return outcome, asset


def check_ladder(asset: VideoAsset, clip: Clip) -> None:
    """Every structural promise of the pipeline, for one clip."""
    assert asset.status == VideoAsset.Status.READY, asset.error_message
    assert asset.progress_percent == 100
    assert asset.duration_seconds == pytest.approx(clip.seconds, abs=0.2)
    assert asset.has_audio is clip.audio
    assert asset.rotation == clip.rotation
    names = list(asset.renditions.values_list("name", flat=True))
    assert names == list(clip.rungs)

    report = analyse_outputs(asset)
    dw, dh = clip.display
    for rendition in asset.renditions.all():
        rung = report.rungs[rendition.name]
        assert (rung.width, rung.height) == (rendition.width, rendition.height)
        # even, never upscaled, aspect ratio kept (±2 px), upright orientation
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        assert rung.width <= dw and rung.height <= dh
        assert abs(rung.width - rung.height * dw / dh) <= 2
        assert rung.decoded_size == (rung.width, rung.height)
        assert rung.has_audio is clip.audio
        # segments ≤ target + 0.5 s; a valid VOD playlist template
        assert rung.extinf and max(rung.extinf) <= SEGMENT_SECONDS + 0.5
        assert sum(rung.extinf) == pytest.approx(clip.seconds, abs=0.2)
        text = rung.playlist
        assert text.startswith("#EXTM3U\n")
        assert re.search(r"^#EXT-X-TARGETDURATION:6$", text, re.M)
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
        assert text.rstrip().endswith("#EXT-X-ENDLIST")
        assert text.index('#EXT-X-MAP:URI="init.mp4"') < text.index("#EXT-X-KEY:")
        segs = re.findall(r"^seg_\d{5}\.m4s$", text, re.M)
        assert segs[0] == "seg_00001.m4s" and len(segs) == rendition.segment_count
        # one key line per segment, right before it: its own IV
        keyed = re.findall(
            r'^#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x[0-9a-f]{32}\n#EXTINF:[0-9.]+,\n'
            r"seg_\d{5}\.m4s$",
            text,
            re.M,
        )
        assert len(keyed) == len(segs)
        assert rendition.bandwidth >= rendition.average_bandwidth > 0
        assert rendition.playlist_key == f"{asset.hls_prefix}{rendition.name}/index.m3u8"
    # no two segments of the video (any rendition) share an IV
    assert len(report.ivs) == sum(r.segment_count for r in asset.renditions.all())
    assert len(set(report.ivs)) == len(report.ivs)
    # keyframes aligned across rungs: every rung cuts segments at the same instants
    starts = [r.keyframe_times for r in report.rungs.values()]
    for other in starts[1:]:
        assert len(other) == len(starts[0])
        assert other == pytest.approx(starts[0], abs=1.5 / clip.fps)
    if clip.seconds > 2 * SEGMENT_SECONDS:
        # (times carry the encoder's constant B-frame delay, hence the difference)
        assert starts[0][1] - starts[0][0] == pytest.approx(SEGMENT_SECONDS, abs=0.01)
        assert starts[0][2] - starts[0][0] == pytest.approx(2 * SEGMENT_SECONDS, abs=0.01)

    variants = master_variants(report.master)
    assert report.master.startswith("#EXTM3U\n")
    assert {v["URI"] for v in variants} == {f"{n}/index.m3u8" for n in clip.rungs}
    for variant in variants:
        for attribute in ("BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS", "FRAME-RATE"):
            assert attribute in variant, (attribute, variant)
        assert variant["CODECS"].startswith("avc1.")
        assert ("mp4a.40.2" in variant["CODECS"]) is clip.audio
        assert float(variant["FRAME-RATE"]) == pytest.approx(clip.fps, abs=0.01)

    top = asset.renditions.first()
    assert top is not None and report.poster_size == (top.width, top.height)
    # every file under the asset's prefix, exactly the contract's layout
    prefix = asset.storage_prefix
    assert all(k.startswith(prefix) for k in report.keys)
    expected = {asset.source_key, f"{prefix}poster.jpg", f"{prefix}hls/master.m3u8"}
    for rendition in asset.renditions.all():
        base = f"{prefix}hls/{rendition.name}/"
        expected |= {f"{base}index.m3u8", f"{base}init.mp4"}
        expected |= {f"{base}seg_{i:05d}.m4s" for i in range(1, rendition.segment_count + 1)}
    assert set(report.keys) == expected
    assert asset.output_bytes == sum(
        default_storage.size(k) for k in report.keys if k != asset.source_key
    )
