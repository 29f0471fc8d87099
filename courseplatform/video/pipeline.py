"""Transcode one uploaded video into an encrypted HLS ladder in storage.

``process_asset`` is the whole pipeline for an asset the caller has claimed
(status PROCESSING): fetch the source, probe it, clear earlier outputs, run ONE
ffmpeg process for every rung plus the poster, encrypt the segments, write the
playlists from measured values, upload everything under the layout contract of
``video/models.py``, then create the ``Rendition`` rows and mark the asset READY.
It works in a private temp dir that is removed whatever happens.

Output (keys under ``schools/<id>/videos/<uuid>/``)::

    hls/master.m3u8             variants, BANDWIDTH/AVERAGE-BANDWIDTH/RESOLUTION/CODECS/FRAME-RATE
    hls/<N>p/index.m3u8         VOD media playlist (template: URI="key", relative file names)
    hls/<N>p/init.mp4           fMP4 initialisation segment (NOT encrypted: it precedes the key)
    hls/<N>p/seg_00001.m4s …    fMP4 media segments, AES-128-CBC (PKCS#7), ≤ 6 s each
    poster.jpg                  JPEG frame at 10 % of the duration, size of the top rung

Encryption: ffmpeg refuses ``hls_key_info_file`` with fMP4 segments ("Encrypted
fmp4 not yet supported"), so ffmpeg writes clear segments and the pipeline
encrypts each whole segment file (``hls.encrypt_rendition``: AES-128, a random key
per video, a random IV per segment, see ``hls.py``). The key is stored with
``ops.crypto.encrypt`` in ``VideoAsset.encryption_key_ciphertext`` (raw 16 bytes
before encryption).

Progress and cancellation: ``-progress pipe:1`` is read line by line; every
``HEARTBEAT_SECONDS`` (or every further percent, at most twice a second) the
asset's ``progress_percent``, ``eta_seconds`` and ``heartbeat_at`` are written
by a conditional UPDATE that only matches while this run still owns the asset
(same status and ``started_at``). When it matches nothing (the video was
deleted, or the watchdog handed it to another worker) ffmpeg is killed and the
run stops with :class:`Cancelled`.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from courseplatform.ops.crypto import encrypt
from courseplatform.ops.events import emit_event
from courseplatform.tenancy.models import School

from . import ladder as ladder_mod
from .hls import (
    RungOutput,
    codecs_from_init,
    encrypt_rendition,
    ffmpeg_codecs,
    master_playlist,
    media_playlist,
    parse_media_playlist,
)
from .ladder import Rung
from .models import Rendition, VideoAsset
from .probe import ProbeError, ProbeResult, check_limits, probe_file
from .selectors import remaining_video_minutes, video_event_ref
from .storage import delete_storage_prefix

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
MIN_UPDATE_SECONDS = 0.5
DOWNLOAD_CHUNK = 8 * 1024 * 1024
UPLOAD_THREADS = 4
# Share of the progress bar for each phase: transcode 0-95 %, upload 95-99 %, 100 = ready.
TRANSCODE_SHARE = 95


class Cancelled(Exception):
    """This run no longer owns the asset (deleted, or reclaimed by the watchdog)."""


class TranscodeError(Exception):
    """A permanent failure; the message is for the instructor."""


class TransientError(Exception):
    """A failure worth retrying (worker killed, disk/storage trouble)."""


def video_setting(name: str, default: Any) -> Any:
    """A video knob: Django setting if defined, else the environment variable, else default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return type(default)(raw) if default is not None else raw


def ffmpeg_exe() -> str:
    configured = video_setting("VIDEO_FFMPEG_BINARY", "")
    if configured:
        return str(configured)
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def preset() -> str:
    return str(video_setting("VIDEO_X264_PRESET", ladder_mod.DEFAULT_PRESET))


# --- ownership: progress, heartbeat, cancellation ------------------------------------------


@dataclass
class Claim:
    """This run's hold on an asset: the ``started_at`` it set when it claimed it."""

    school: School
    asset_id: int
    token: datetime
    last_write: float = 0.0
    last_percent: int = -1
    started: float = field(default_factory=time.monotonic)

    def _rows(self) -> Any:
        return VideoAsset.objects.filter(
            school=self.school,
            pk=self.asset_id,
            status=VideoAsset.Status.PROCESSING,
            started_at=self.token,
        )

    def still_owned(self) -> bool:
        return bool(self._rows().exists())

    def beat(self, percent: int | None = None, *, force: bool = False) -> None:
        """Write heartbeat (+ progress) when due; raise Cancelled if we lost the asset."""
        now = time.monotonic()
        due = now - self.last_write >= HEARTBEAT_SECONDS
        moved = (
            percent is not None
            and percent > self.last_percent
            and now - self.last_write >= MIN_UPDATE_SECONDS
        )
        if not (force or due or moved):
            return
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if percent is not None:
            percent = max(0, min(99, percent))
            fields["progress_percent"] = percent
            elapsed = now - self.started
            if percent >= 3:
                fields["eta_seconds"] = int(elapsed * (100 - percent) / percent)
            self.last_percent = percent
        self.last_write = now
        if self._rows().update(**fields) == 0:
            raise Cancelled(f"asset {self.asset_id} is no longer ours")


# --- result --------------------------------------------------------------------------------


@dataclass
class TranscodeResult:
    probe: ProbeResult
    rungs: list[RungOutput]
    frame_rate: float
    key: bytes
    master: str
    media_playlists: dict[str, str]
    poster: Path
    command: list[str]
    ffmpeg_seconds: float


# --- ffmpeg --------------------------------------------------------------------------------


def _classify_ffmpeg_failure(returncode: int, stderr_tail: str) -> Exception:
    detail = (stderr_tail.strip().splitlines() or ["no output"])[-1][:300]
    if returncode < 0:
        return TransientError(f"ffmpeg was stopped by signal {-returncode}")
    transient_markers = ("No space left", "Cannot allocate memory", "Input/output error")
    if any(marker in stderr_tail for marker in transient_markers):
        return TransientError(f"ffmpeg hit a system problem: {detail}")
    return TranscodeError(
        "We could not convert this video: the file seems to be damaged or uses a format "
        f"we cannot decode. Export it again (H.264 MP4 works everywhere) and upload it. "
        f"Technical detail: {detail}"
    )


def run_ffmpeg(
    cmd: list[str],
    *,
    duration_seconds: float,
    on_progress: Callable[[float], None] | None,
    log_path: Path,
) -> None:
    """Run ffmpeg, feeding ``on_progress(fraction)`` from ``-progress pipe:1``.

    ``on_progress`` may raise (e.g. Cancelled): ffmpeg is then killed and the
    exception propagates. A failing ffmpeg raises TranscodeError/TransientError.
    """
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and on_progress is not None and value.isdigit():
                    fraction = int(value) / 1e6 / max(duration_seconds, 0.001)
                    on_progress(min(1.0, max(0.0, fraction)))
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if returncode != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise _classify_ffmpeg_failure(returncode, tail)


def extract_poster(source: Path, out: Path, *, at: float, rung: Rung) -> None:
    """Fallback poster (when the in-ladder poster branch produced nothing)."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-ss", f"{at:.3f}", "-i", str(source), "-frames:v", "1",
        "-vf", f"scale={rung.width}:{rung.height},setsar=1", "-q:v", "3", str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=False, capture_output=True, timeout=120)
    if not out.exists() or out.stat().st_size == 0:
        cmd[cmd.index("-ss") + 1] = "0"
        subprocess.run(cmd, check=False, capture_output=True, timeout=120)


def transcode_file(
    source: Path,
    work: Path,
    probe: ProbeResult,
    *,
    on_progress: Callable[[float], None] | None = None,
    x264_preset: str | None = None,
) -> TranscodeResult:
    """Encode ``source`` into ``work/out`` (clear fMP4), then encrypt and write playlists."""
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    rungs = ladder_mod.choose_ladder(probe.display_width, probe.display_height, probe.frame_rate)
    poster = out / "poster.jpg"
    cmd = ladder_mod.build_command(
        ffmpeg=ffmpeg_exe(),
        source=source,
        out_dir=out,
        rungs=rungs,
        frame_rate=probe.frame_rate,
        has_audio=probe.has_audio,
        duration_seconds=probe.duration_seconds,
        poster_path=poster,
        preset=x264_preset or preset(),
        video_stream=probe.video_stream,
        audio_stream=probe.audio_stream,
    )
    logger.info("video transcode: %s", ladder_mod.command_line(cmd))
    started = time.monotonic()
    run_ffmpeg(
        cmd,
        duration_seconds=probe.duration_seconds,
        on_progress=on_progress,
        log_path=work / "ffmpeg.log",
    )
    ffmpeg_seconds = time.monotonic() - started
    if not poster.exists() or poster.stat().st_size == 0:
        extract_poster(
            source, poster, at=ladder_mod.poster_time(probe.duration_seconds), rung=rungs[0]
        )
    if not poster.exists():
        raise TranscodeError("We could not take a poster picture from this video.")

    master_path = out / "master.m3u8"
    codecs_by_rung = ffmpeg_codecs(master_path.read_text()) if master_path.exists() else {}
    key = secrets.token_bytes(16)
    outputs: list[RungOutput] = []
    playlists: dict[str, str] = {}
    for index, rung in enumerate(rungs):
        rung_dir = out / rung.name
        playlist = rung_dir / "index.m3u8"
        if not playlist.exists():
            raise TranscodeError(
                f"The {rung.name} version of this video was not produced. Try again later."
            )
        segments = parse_media_playlist(playlist.read_text())
        if not segments:
            raise TranscodeError("The converted video is empty: the source has no playable frames.")
        init = rung_dir / "init.mp4"
        for candidate in (rung_dir / f"init_{index}.mp4", rung_dir / f"init_{rung.name}.mp4"):
            if candidate.exists() and not init.exists():
                candidate.rename(init)
        if not init.exists():
            raise TranscodeError(f"The {rung.name} initialisation segment is missing.")
        codecs = codecs_by_rung.get(rung.name) or codecs_from_init(init, probe.has_audio)
        ivs, sizes = encrypt_rendition(rung_dir, [name for name, _ in segments], key=key)
        result = RungOutput(
            rung=rung,
            segments=segments,
            segment_bytes=sizes,
            init_bytes=init.stat().st_size,
            codecs=codecs,
            ivs=ivs,
        )
        text = media_playlist(segments, ivs=ivs)
        playlist.write_text(text)
        playlists[rung.name] = text
        outputs.append(result)
    fps = ladder_mod.output_frame_rate(probe.frame_rate)
    master = master_playlist(outputs, frame_rate=fps)
    master_path.write_text(master)
    return TranscodeResult(
        probe=probe,
        rungs=outputs,
        frame_rate=fps,
        key=key,
        master=master,
        media_playlists=playlists,
        poster=poster,
        command=cmd,
        ffmpeg_seconds=ffmpeg_seconds,
    )


# --- storage -------------------------------------------------------------------------------


def hls_prefix(asset: VideoAsset) -> str:
    return f"{asset.storage_prefix}hls/"


def poster_key(asset: VideoAsset) -> str:
    return f"{asset.storage_prefix}poster.jpg"


def clear_outputs(*, school: School, asset: VideoAsset) -> None:
    """Remove renditions and output files of an earlier run (the source stays)."""
    Rendition.objects.filter(school=school, asset=asset).delete()
    delete_storage_prefix(hls_prefix(asset))
    if default_storage.exists(poster_key(asset)):
        default_storage.delete(poster_key(asset))


def _local_source(asset: VideoAsset, work: Path, claim: Claim | None) -> Path:
    """A local path to the source: the file itself on disk storage, else a download."""
    key = asset.source_key
    if not key or not default_storage.exists(key):
        raise TranscodeError("The uploaded file is missing from storage. Upload the video again.")
    try:
        local = Path(default_storage.path(key))
        if local.is_file():
            return local
    except NotImplementedError:
        pass
    suffix = Path(key).suffix[:10] or ".bin"
    target = work / f"source{suffix}"
    with default_storage.open(key, "rb") as src, target.open("wb") as dst:
        while chunk := src.read(DOWNLOAD_CHUNK):
            dst.write(chunk)
            if claim is not None:
                claim.beat()
    return target


def _output_files(out: Path, asset: VideoAsset) -> Iterator[tuple[Path, str]]:
    """(local file, storage key) pairs; playlists last so a partial upload has none."""
    base = hls_prefix(asset)
    media: list[tuple[Path, str]] = []
    playlists: list[tuple[Path, str]] = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name in {"poster.jpg"}:
            continue
        rel = path.relative_to(out).as_posix()
        if path.suffix == ".m3u8":
            playlists.append((path, base + rel))
        elif path.suffix in {".m4s", ".mp4"}:
            media.append((path, base + rel))
    yield (out / "poster.jpg", poster_key(asset))
    yield from media
    yield from sorted(playlists, key=lambda p: p[1].endswith("master.m3u8"))


def _put(path: Path, key: str) -> int:
    data = path.read_bytes()
    saved = default_storage.save(key, ContentFile(data))
    if saved != key:
        default_storage.delete(saved)
        raise TransientError(f"storage renamed {key} to {saved}: an old file was in the way")
    return len(data)


def upload_outputs(
    out: Path, asset: VideoAsset, *, on_file: Callable[[int, int], None] | None = None
) -> int:
    """Upload every output file; return total bytes."""
    files = list(_output_files(out, asset))
    total = 0
    body = [f for f in files if not f[1].endswith(".m3u8")]
    tail = [f for f in files if f[1].endswith(".m3u8")]
    done = 0
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        for size in pool.map(lambda pair: _put(*pair), body):
            total += size
            done += 1
            if on_file is not None:
                on_file(done, len(files))
    for path, key in tail:  # media playlists, then master, in order
        total += _put(path, key)
        done += 1
        if on_file is not None:
            on_file(done, len(files))
    return total


# --- the whole pipeline for one claimed asset ----------------------------------------------


def process_asset(
    *,
    school: School,
    asset: VideoAsset,
    claim: Claim | None = None,
    echo: Callable[[str], None] | None = None,
) -> VideoAsset:
    """Probe, transcode, encrypt, upload and publish ``asset``.

    ``claim`` is the job's ownership record (None when called synchronously, e.g. by
    ``seed_demo``). Raises ProbeError/TranscodeError (permanent), TransientError or
    storage/DB exceptions (retryable), or Cancelled. The temp dir is always removed.
    """
    if asset.school_id != school.pk:
        raise ValueError("asset belongs to another school")
    work_root = video_setting("VIDEO_WORK_DIR", "") or None
    if work_root:
        Path(work_root).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"cp-video-{school.pk}-{asset.pk}-", dir=work_root))
    last_echo = [-1]

    def progress(percent: int) -> None:
        if claim is not None:
            claim.beat(percent)
        if echo is not None and percent // 10 > last_echo[0]:
            last_echo[0] = percent // 10
            echo(f"  transcoding… {percent}%")

    try:
        source = _local_source(asset, work, claim)
        size = source.stat().st_size
        probe = probe_file(source)
        plan = school.plan
        check_limits(
            probe,
            size_bytes=size,
            max_upload_bytes=plan.max_upload_bytes,
            remaining_minutes=remaining_video_minutes(school=school, exclude=asset),
            plan_name=plan.name,
            plan_minutes=plan.max_video_minutes,
        )
        if claim is not None:
            claim.beat(0, force=True)
        VideoAsset.objects.filter(school=school, pk=asset.pk).update(
            duration_seconds=probe.duration_seconds,
            width=probe.width,
            height=probe.height,
            rotation=probe.rotation,
            frame_rate=probe.frame_rate,
            has_audio=probe.has_audio,
            probe=probe.as_json(),
            source_bytes=size,
        )
        clear_outputs(school=school, asset=asset)

        result = transcode_file(
            source,
            work,
            probe,
            on_progress=lambda f: progress(int(f * TRANSCODE_SHARE)),
        )

        def uploaded(done: int, total: int) -> None:
            progress(TRANSCODE_SHARE + int(4 * done / max(total, 1)))

        output_bytes = upload_outputs(work / "out", asset, on_file=uploaded)
        with transaction.atomic():
            rows = VideoAsset.objects.select_for_update().filter(school=school, pk=asset.pk)
            if claim is not None:
                rows = rows.filter(status=VideoAsset.Status.PROCESSING, started_at=claim.token)
            if not rows.exists():
                raise Cancelled(f"asset {asset.pk} is no longer ours")
            Rendition.objects.filter(school=school, asset=asset).delete()
            Rendition.objects.bulk_create(
                [
                    Rendition(
                        school=school,
                        asset=asset,
                        name=r.rung.name,
                        width=r.rung.width,
                        height=r.rung.height,
                        bandwidth=r.bandwidth,
                        average_bandwidth=r.average_bandwidth,
                        codecs=r.codecs,
                        frame_rate=result.frame_rate,
                        playlist_key=f"{hls_prefix(asset)}{r.rung.name}/index.m3u8",
                        segment_count=len(r.segments),
                        bytes=r.total_bytes,
                    )
                    for r in result.rungs
                ]
            )
            rows.update(
                status=VideoAsset.Status.READY,
                error_message="",
                progress_percent=100,
                eta_seconds=None,
                heartbeat_at=timezone.now(),
                finished_at=timezone.now(),
                hls_prefix=hls_prefix(asset),
                poster_key=poster_key(asset),
                encryption_key_ciphertext=encrypt(result.key),
                output_bytes=output_bytes,
                updated_at=timezone.now(),
            )
            emit_event(
                school=school,
                type="video.ready",
                data={
                    **video_event_ref(asset),
                    "duration_seconds": probe.duration_seconds,
                    "width": probe.width,
                    "height": probe.height,
                    "renditions": [r.rung.name for r in result.rungs],
                },
            )
        asset.refresh_from_db()
        if echo is not None:
            echo(
                f"  ready: {len(result.rungs)} renditions "
                f"({', '.join(r.rung.name for r in result.rungs)}), "
                f"{output_bytes / 1048576:.1f} MB, ffmpeg {result.ffmpeg_seconds:.1f} s"
            )
        return asset
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = [
    "Cancelled",
    "Claim",
    "ProbeError",
    "TranscodeError",
    "TransientError",
    "clear_outputs",
    "process_asset",
    "transcode_file",
]
