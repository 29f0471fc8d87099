"""A tiny, real, encrypted HLS ladder for the playback tests (no transcode task needed).

:func:`make_hls` runs ffmpeg (from ``imageio-ffmpeg``) once: a lavfi test pattern
and tone, two rungs (360p, 240p), fMP4 segments of 2 s, then encrypts and writes
the media playlists with the pipeline's own ``video/hls.py`` (a random key, a random
IV per segment, ``URI="key"``, relative ``init.mp4`` / ``seg_00001.m4s`` names) and
a master referencing ``<height>p/index.m3u8``. :func:`store_ready_asset` copies that output into a
storage backend under ``schools/<id>/videos/<uuid>/`` and creates the READY
``VideoAsset`` with its ``Rendition`` rows and Fernet-encrypted key.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Course, Lesson
from courseplatform.ops import crypto
from courseplatform.tenancy.rls import school_context
from courseplatform.video.hls import (
    decrypt_segment,
    encrypt_rendition,
    media_playlist,
    parse_media_playlist,
)
from courseplatform.video.models import Rendition, VideoAsset
from tests.fixtures.schools import PASSWORD, host_of

RUNGS = (("360p", 640, 360, "800k"), ("240p", 426, 240, "300k"))
SEGMENT_SECONDS = 2
_CACHE: dict[float, HlsOutput] = {}


@dataclass
class RungFiles:
    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    files: list[str] = field(default_factory=list)  # init.mp4, seg_00001.m4s, ...


@dataclass
class HlsOutput:
    root: Path
    key: bytes
    ivs: dict[str, bytes]  # "<rung>/<segment>" -> its IV
    duration: float
    rungs: list[RungFiles]
    clear: dict[str, bytes]  # "<rung>/<file>" -> unencrypted bytes (for decrypt checks)

    def files(self) -> list[str]:
        """Every file relative to the hls/ directory, master first."""
        out = ["master.m3u8"]
        for rung in self.rungs:
            out.append(f"{rung.name}/index.m3u8")
            out += [f"{rung.name}/{name}" for name in rung.files]
        return out


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    return decrypt_segment(data, key=key, iv=iv)


def make_hls(duration: float = 4.0) -> HlsOutput:
    """The encrypted two-rung ladder of a ``duration``-second clip (cached per process)."""
    if duration in _CACHE and _CACHE[duration].root.exists():
        return _CACHE[duration]
    root = Path(tempfile.mkdtemp(prefix="cp-hls-"))
    atexit.register(shutil.rmtree, root, True)
    work = root / "ffmpeg"
    work.mkdir()
    split = ";".join(
        [f"[0:v]split={len(RUNGS)}" + "".join(f"[s{i}]" for i in range(len(RUNGS)))]
        + [f"[s{i}]scale={w}:{h}[v{i}]" for i, (_n, w, h, _b) in enumerate(RUNGS)]
    )
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=640x360:rate=24:duration={duration}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:duration={duration}",
        "-filter_complex",
        split,
    ]
    for i in range(len(RUNGS)):
        command += ["-map", f"[v{i}]"]
    for _ in RUNGS:
        command += ["-map", "1:a"]
    command += [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(24 * SEGMENT_SECONDS),
        "-keyint_min",
        str(24 * SEGMENT_SECONDS),
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-ac",
        "2",
    ]
    for i, (_n, _w, _h, bitrate) in enumerate(RUNGS):
        command += [f"-b:v:{i}", bitrate]
    command += [
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
        "-start_number", "1",
        "-hls_segment_filename", str(work / "%v" / "seg_%05d.m4s"),
        "-master_pl_name", "master.m3u8",
        "-var_stream_map", " ".join(f"v:{i},a:{i},name:{n}" for i, (n, *_r) in enumerate(RUNGS)),
        str(work / "%v" / "index.m3u8"),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)

    key = secrets.token_bytes(16)
    ivs: dict[str, bytes] = {}
    master_text = (work / "master.m3u8").read_text()
    out = root / "hls"
    rungs: list[RungFiles] = []
    clear: dict[str, bytes] = {}
    for name, width, height, _bitrate in RUNGS:
        info = re.search(
            rf"BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),RESOLUTION=\d+x\d+,CODECS=\"([^\"]+)\""
            rf"[^\n]*\n{re.escape(name)}/index\.m3u8",
            master_text,
        )
        assert info, master_text
        rung_dir = work / name
        init = next(p for p in rung_dir.iterdir() if p.name.startswith("init"))
        init.rename(rung_dir / "init.mp4")
        segments = parse_media_playlist((rung_dir / "index.m3u8").read_text())
        names = [segment for segment, _seconds in segments]
        for file in ["init.mp4", *names]:
            clear[f"{name}/{file}"] = (rung_dir / file).read_bytes()
        rung_ivs, _sizes = encrypt_rendition(rung_dir, names, key=key)
        ivs.update({f"{name}/{segment}": iv for segment, iv in zip(names, rung_ivs, strict=True)})
        (rung_dir / "index.m3u8").write_text(media_playlist(segments, ivs=rung_ivs))
        (out / name).mkdir(parents=True)
        files = ["init.mp4", *names]
        for file in ["index.m3u8", *files]:
            shutil.copy(rung_dir / file, out / name / file)
        rungs.append(RungFiles(name, width, height, int(info[1]), int(info[2]), info[3], files))
    master = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in rungs:
        master += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={rung.bandwidth},"
            f"AVERAGE-BANDWIDTH={rung.average_bandwidth},RESOLUTION={rung.width}x{rung.height},"
            f'CODECS="{rung.codecs}",FRAME-RATE=24.000',
            f"{rung.name}/index.m3u8",
        ]
    (out / "master.m3u8").write_text("\n".join(master) + "\n")
    poster = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    poster += ["-i", "testsrc2=size=640x360:rate=1:duration=1", "-frames:v", "1"]
    subprocess.run([*poster, str(root / "poster.jpg")], check=True, capture_output=True, timeout=60)
    shutil.rmtree(work)
    result = HlsOutput(root, key, ivs, duration, rungs, clear)
    _CACHE[duration] = result
    return result


def store_ready_asset(
    *, school: Any, owner: Any, hls: HlsOutput, storage: Any = None, title: str = "Intro"
) -> VideoAsset:
    """Copy ``hls`` into ``storage`` under the asset's prefix and create the READY rows.

    Call inside ``school_context(school)``.
    """
    storage = storage or default_storage
    asset = VideoAsset.objects.create(
        school=school,
        title=title,
        original_filename="intro.mp4",
        status=VideoAsset.Status.READY,
        created_by=owner,
        duration_seconds=hls.duration,
        width=640,
        height=360,
        frame_rate=24.0,
        has_audio=True,
        progress_percent=100,
        finished_at=timezone.now(),
        encryption_key_ciphertext=crypto.encrypt(hls.key),
    )
    prefix = asset.storage_prefix
    asset.hls_prefix = f"{prefix}hls/"
    output_bytes = 0
    for rel in hls.files():
        data = (hls.root / "hls" / rel).read_bytes()
        saved = storage.save(f"{asset.hls_prefix}{rel}", ContentFile(data))
        assert saved == f"{asset.hls_prefix}{rel}", saved
        output_bytes += len(data)
    poster = storage.save(
        f"{prefix}poster.jpg", ContentFile((hls.root / "poster.jpg").read_bytes())
    )
    asset.poster_key = poster
    asset.output_bytes = output_bytes
    asset.save()
    for rung in hls.rungs:
        Rendition.objects.create(
            school=school,
            asset=asset,
            name=rung.name,
            width=rung.width,
            height=rung.height,
            bandwidth=rung.bandwidth,
            average_bandwidth=rung.average_bandwidth,
            codecs=rung.codecs,
            frame_rate=24.0,
            playlist_key=f"{asset.hls_prefix}{rung.name}/index.m3u8",
            segment_count=len(rung.files) - 1,
        )
    return asset


# --- two schools with a video course each (the playback tests' world) --------------------


@dataclass
class World:
    school: Any
    owner: User
    course: Course
    preview: Lesson  # free preview with the video
    locked: Lesson  # enrolled students only, same video
    asset: VideoAsset
    student: User  # enrolled
    outsider: User  # same school, not enrolled
    other_school: Any
    other_owner: User
    other_lesson: Lesson
    other_asset: VideoAsset

    def client(self, user: User | None = None, host: str | None = None, **kw: Any) -> Client:
        client = Client(HTTP_HOST=host or host_of(self.school), **kw)
        if user is not None:
            with school_context(user.school_id):
                client.force_login(user)
        return client


def make_student(school: Any, email: str, role: str = "student") -> User:
    with school_context(school):
        return User.objects.create_user(email, PASSWORD, school=school, full_name="T", role=role)


def video_course(school: Any, owner: User, asset: VideoAsset, *, publish: bool = True) -> Course:
    with school_context(school):
        course = course_services.create_course(school=school, actor=owner, title="Film School")
        section = course_services.add_section(school=school, actor=owner, course=course, title="1")
        for n, preview in enumerate((True, False)):
            lesson = course_services.add_lesson(
                school=school, actor=owner, section=section, title=f"Clip {n}", kind="video"
            )
            lesson.is_preview = preview
            lesson.video = asset
            lesson.save()
        if publish:
            course_services.set_course_status(
                school=school, actor=owner, course=course, publish=True
            )
        course.refresh_from_db()
    return course


def remove_asset_files(asset: VideoAsset, storage: Any = None) -> None:
    storage = storage or default_storage
    if hasattr(storage, "bucket_name"):
        for obj in storage.bucket.objects.filter(Prefix=asset.storage_prefix):
            obj.delete()
        return
    path = Path(storage.path(asset.storage_prefix))
    if path.is_dir() and os.sep + "schools" + os.sep in str(path):
        shutil.rmtree(path)


# --- Cloudflare's check, re-implemented from its documentation -----------------------------


def cloudflare_is_timed_hmac_valid_v0(
    key: str,
    message_mac: str,
    ttl: int,
    current_timestamp: int,
    length_of_separator: int = 0,
    flags: str | None = None,
) -> bool:
    """What Cloudflare's Rules language function does, per its reference:

    *MessageMAC* is ``<message><separator><timestamp>-<mac>`` with a 10-digit issue
    timestamp; the MAC is HMAC-SHA256(key, message + timestamp), base64 (URL-safe
    without padding when ``flags == "s"``, else standard base64 that must be
    URL-encoded); valid while ``current_timestamp < timestamp + ttl``.
    """
    import base64
    import hashlib
    import hmac
    from urllib.parse import unquote

    match = re.fullmatch(r"(.+)(\d{10})-(.{43,})", message_mac, flags=re.DOTALL)
    if match is None:
        return False
    head, stamp, mac_text = match.groups()
    message = head[: len(head) - length_of_separator] if length_of_separator else head
    try:
        if flags == "s":
            if len(mac_text) != 43:
                return False
            mac = base64.urlsafe_b64decode(mac_text + "=")
        else:
            mac = base64.b64decode(unquote(mac_text), validate=True)
    except ValueError:
        return False
    expected = hmac.new(key.encode(), f"{message}{stamp}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(mac, expected) and current_timestamp < int(stamp) + ttl
