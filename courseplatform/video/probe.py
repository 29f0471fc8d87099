"""Probe an uploaded video with PyAV: what is in it, and can we use it?

``probe_file(path)`` returns a :class:`ProbeResult` or raises :class:`ProbeError`
whose message is written for the instructor ("This file is not a video we can
read…"), never a codec stack trace. ``check_limits`` adds the plan's limits.

Rotation: phones store portrait clips as landscape frames plus a display
matrix. ``rotation`` is the angle in degrees, normalised to 0/90/180/270;
``display_width``/``display_height`` are the upright dimensions (rotation and
non-square pixels applied), which is what ffmpeg produces when it auto-rotates
while decoding. Only the display matrix counts: it is all ffmpeg's auto-rotation
follows (a free-form ``rotate`` tag, which current demuxers no longer export,
would make the probe disagree with the transcode).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

MAX_DIMENSION = 8192  # 8K; beyond that we refuse rather than exhaust the worker
MAX_DURATION_SECONDS = 12 * 3600


class ProbeError(Exception):
    """The file cannot be used; ``str(exc)`` is a message for the instructor."""


@dataclass(frozen=True)
class ProbeResult:
    duration_seconds: float
    width: int  # coded (stored) frame size
    height: int
    rotation: int  # 0, 90, 180 or 270
    frame_rate: float
    has_audio: bool
    display_width: int  # upright size as viewers see it
    display_height: int
    video_codec: str
    audio_codec: str = ""
    audio_channels: int = 0
    audio_sample_rate: int = 0
    sample_aspect_ratio: str = "1:1"
    container: str = ""
    bit_rate: int = 0
    video_stream: int = 0  # absolute stream indexes, for ffmpeg's -map
    audio_stream: int | None = None
    streams: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


NOT_A_VIDEO = (
    "This file is not a video we can read. Upload a video file such as MP4 (H.264), "
    "MOV, MKV or WebM."
)
DAMAGED = (
    "This video file is damaged or incomplete, so it cannot be played. Export or copy it "
    "again and upload the new file."
)


def _normalise_rotation(angle: float) -> int:
    return round(angle / 90.0) * 90 % 360


def _fraction(value: Any) -> Fraction | None:
    try:
        if value is None:
            return None
        frac = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return frac if frac > 0 else None


def probe_file(path: str | Path) -> ProbeResult:
    """Open ``path`` with PyAV, decode its first video frame, describe it."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProbeError("The uploaded file could not be found. Upload it again.") from exc
    if size == 0:
        raise ProbeError("The uploaded file is empty (0 bytes). Upload the video again.")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ProbeError(DAMAGED if _looks_like_video(path) else NOT_A_VIDEO) from exc
    try:
        return _describe(container)
    finally:
        container.close()


def _looks_like_video(path: Path) -> bool:
    """Does the file start like a video container (so a failure means it is damaged)?"""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return (
        head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}  # MP4/MOV
        or head.startswith(b"\x1a\x45\xdf\xa3")  # Matroska/WebM
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or head.startswith(b"\x00\x00\x01\xba")  # MPEG-PS
        or (len(head) > 0 and head[0] == 0x47 and path.stat().st_size % 188 == 0)  # MPEG-TS
    )


def _describe(container: Any) -> ProbeResult:
    fmt = container.format.name if container.format is not None else ""
    # Image formats (a JPEG renamed .mp4) open as single-frame "videos".
    if fmt in {"image2", "png_pipe", "jpeg_pipe", "gif", "webp_pipe", "bmp_pipe", "tty"}:
        raise ProbeError(NOT_A_VIDEO)
    videos = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    audios = list(container.streams.audio)
    if not videos:
        if audios:
            raise ProbeError(
                "This file has sound but no picture. Upload a video file; audio-only "
                "lessons are not supported yet."
            )
        raise ProbeError(NOT_A_VIDEO)
    video = videos[0]
    ctx = video.codec_context
    if ctx is None or not ctx.width or not ctx.height:
        raise ProbeError(DAMAGED)
    width, height = int(ctx.width), int(ctx.height)
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise ProbeError(
            f"This video is {width}x{height} pixels; the largest size we accept is "
            f"{MAX_DIMENSION} pixels on either side (8K). Export it at 4K or 1080p."
        )

    # Decode the first frame: proves the stream is real video data and gives the
    # rotation as ffmpeg will apply it (display matrix side data).
    rotation_angle: float | None = None
    first_pts: float | None = None
    try:
        for frame in container.decode(video):
            rotation_angle = float(getattr(frame, "rotation", 0) or 0)
            if frame.time is not None:
                first_pts = float(frame.time)
            break
    except av.FFmpegError as exc:
        raise ProbeError(DAMAGED) from exc
    if rotation_angle is None:
        raise ProbeError(DAMAGED)
    rotation = _normalise_rotation(rotation_angle)

    duration = _duration(container, video)
    if duration is None or not math.isfinite(duration) or duration <= 0.05:
        raise ProbeError(
            "This video has no length (its duration is zero). Check that the recording "
            "finished properly, then upload it again."
        )
    if duration > MAX_DURATION_SECONDS:
        raise ProbeError(
            f"This video is {duration / 3600:.1f} hours long; the longest we accept is "
            f"{MAX_DURATION_SECONDS // 3600} hours."
        )
    # Timestamps need not start at zero (an MPEG-TS recording may begin hours into its
    # clock): a first frame far beyond the end, counted from the start, means the
    # beginning of the stream is missing.
    start = float(container.start_time) / av.time_base if container.start_time else 0.0
    if first_pts is not None and first_pts - start > duration + 1:
        raise ProbeError(DAMAGED)

    rate = (
        _fraction(video.average_rate) or _fraction(video.guessed_rate) or _fraction(video.base_rate)
    )
    frame_rate = float(rate) if rate is not None else 30.0
    if not 1.0 <= frame_rate <= 1000.0:
        frame_rate = 30.0

    sar = _fraction(video.sample_aspect_ratio) or Fraction(1)
    shown_w = max(2, round(width * sar)) if sar != 1 else width
    display_w, display_h = (height, shown_w) if rotation in (90, 270) else (shown_w, height)

    audio = audios[0] if audios else None
    streams = [
        {
            "index": s.index,
            "type": s.type,
            "codec": s.codec_context.name if s.codec_context is not None else "",
        }
        for s in container.streams
    ]
    return ProbeResult(
        duration_seconds=round(duration, 3),
        width=width,
        height=height,
        rotation=rotation,
        frame_rate=round(frame_rate, 3),
        has_audio=audio is not None,
        display_width=int(display_w),
        display_height=int(display_h),
        video_codec=ctx.name or "",
        audio_codec=(audio.codec_context.name or "") if audio is not None else "",
        audio_channels=int(audio.codec_context.channels or 0) if audio is not None else 0,
        audio_sample_rate=int(audio.codec_context.sample_rate or 0) if audio is not None else 0,
        sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
        container=fmt,
        bit_rate=int(container.bit_rate or 0),
        video_stream=int(video.index),
        audio_stream=int(audio.index) if audio is not None else None,
        streams=streams,
    )


def _duration(container: Any, video: Any) -> float | None:
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    return _measured_duration(container, video)


def _measured_duration(container: Any, video: Any) -> float | None:
    """The span of the video packets' timestamps, read to the end without decoding.

    Streamed recordings (a browser's MediaRecorder WebM, an MKV written to a pipe) have
    no duration in their header; their length is only known from the packets.
    """
    if video.time_base is None:
        return None
    first: int | None = None
    last: int | None = None
    try:
        container.seek(0)
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            end = packet.pts + (packet.duration or 0)
            first = packet.pts if first is None else min(first, packet.pts)
            last = end if last is None else max(last, end)
    except av.FFmpegError:
        return None
    if first is None or last is None:
        return None
    return float((last - first) * video.time_base)


def check_limits(
    result: ProbeResult,
    *,
    size_bytes: int,
    max_upload_bytes: int | None,
    remaining_minutes: float | None,
    plan_name: str,
    plan_minutes: int | None,
) -> None:
    """Raise ProbeError when the plan does not allow this video."""
    if max_upload_bytes is not None and size_bytes > max_upload_bytes:
        raise ProbeError(
            f"This video is {size_bytes / 1048576:.0f} MB; your plan ({plan_name}) accepts "
            f"videos up to {max_upload_bytes / 1048576:.0f} MB."
        )
    if remaining_minutes is not None:
        minutes = result.duration_seconds / 60.0
        if minutes > remaining_minutes + 1e-6:
            raise ProbeError(
                f"This video is {minutes:.1f} minutes long, but your plan ({plan_name}) has "
                f"only {remaining_minutes:.1f} of its {plan_minutes} video minutes left. "
                "Delete videos you no longer need, trim this one, or upgrade your plan."
            )
