"""The adaptive-bitrate ladder and the single ffmpeg command that encodes it.

Ladder rules
------------
* Rungs come from {1080, 720, 480, 360}; a rung's number is the **short side**
  of the upright picture, so a landscape 1920x1080 clip and a portrait
  1080x1920 phone clip are both "1080p" (as YouTube and Vimeo name them).
  For landscape sources that is simply the display height.
* A rung is never larger than the source (no upscaling): 853x480 gives 480p and
  360p; 720x1280 portrait gives 720p (720x1280), 480p (480x854), 360p (360x640).
  A source smaller than 360p gets one rung at its own size.
* Frame sizes keep the display aspect ratio (after rotation and non-square
  pixels) and are even (H.264 4:2:0 needs it); output pixels are square.
* Bitrates (H.264, ABR with VBV): 1080p 5000k, 720p 2800k, 480p 1400k, 360p
  800k; maxrate = 1.1 x bitrate, bufsize = 2 x bitrate; x 1.5 above 40 fps.
  Audio AAC-LC 128 kbit/s stereo 48 kHz in every rung (none if the source has
  no audio). Frame rates above 60 fps are reduced to 60.
* Keyframes: fixed GOP of ``SEGMENT_SECONDS`` x fps frames, no scene-cut
  keyframes, and keyframes forced at every multiple of ``SEGMENT_SECONDS``, so
  every rung cuts its segments at the same instants.

The command
-----------
One ffmpeg process decodes the source once, ``split``s the decoded frames into
one scaler per rung (plus a poster branch), and encodes all rungs in parallel
into an HLS VOD (fMP4) variant set. See ``build_command``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

SEGMENT_SECONDS = 6
STANDARD_RUNGS = (1080, 720, 480, 360)
VIDEO_KBPS = {1080: 5000, 720: 2800, 480: 1400, 360: 800}
AUDIO_KBPS = 128
HIGH_FPS = 40.0
MAX_FPS = 60.0
DEFAULT_PRESET = "veryfast"


@dataclass(frozen=True)
class Rung:
    name: str  # "720p": the short side
    width: int
    height: int
    video_kbps: int

    @property
    def maxrate_kbps(self) -> int:
        return int(self.video_kbps * 1.1)

    @property
    def bufsize_kbps(self) -> int:
        return self.video_kbps * 2


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


def output_frame_rate(source_fps: float) -> float:
    return min(source_fps, MAX_FPS) if source_fps > 0 else 30.0


def choose_ladder(display_width: int, display_height: int, frame_rate: float) -> list[Rung]:
    """The rungs for a source whose upright size is ``display_width`` x ``display_height``."""
    if display_width <= 0 or display_height <= 0:
        raise ValueError("display size must be positive")
    short = min(display_width, display_height)
    landscape = display_width >= display_height
    ratio = max(display_width, display_height) / short
    boost = 1.5 if output_frame_rate(frame_rate) > HIGH_FPS else 1.0

    sizes = [r for r in STANDARD_RUNGS if r <= short]
    if not sizes:
        sizes = [short - short % 2 or 2]
    rungs: list[Rung] = []
    for size in sizes:
        side = size if size in VIDEO_KBPS else _even(size)
        long_side = min(_even(side * ratio), max(display_width, display_height) // 2 * 2)
        width, height = (long_side, side) if landscape else (side, long_side)
        if size in VIDEO_KBPS:
            kbps = VIDEO_KBPS[size]
        else:  # below 360p: scale the 360p rate by pixel count, at least 300k
            kbps = max(300, int(VIDEO_KBPS[360] * (width * height) / (640 * 360)))
        rungs.append(
            Rung(name=f"{side}p", width=width, height=height, video_kbps=int(kbps * boost))
        )
    return rungs


def gop_frames(frame_rate: float) -> int:
    return max(1, round(SEGMENT_SECONDS * output_frame_rate(frame_rate)))


def poster_time(duration_seconds: float) -> float:
    """The poster frame: 10 % into the video (at most 30 s in; 0 for very short clips)."""
    return round(min(max(0.0, duration_seconds * 0.10), 30.0), 3)


def build_command(
    *,
    ffmpeg: str,
    source: str | Path,
    out_dir: str | Path,
    rungs: list[Rung],
    frame_rate: float,
    has_audio: bool,
    duration_seconds: float,
    poster_path: str | Path | None = None,
    preset: str = DEFAULT_PRESET,
    progress: bool = True,
    video_stream: int | None = None,
    audio_stream: int | None = None,
) -> list[str]:
    """The single ffmpeg command that writes every rung (and the poster).

    Output in ``out_dir``: ``<name>/index.m3u8``, ``<name>/init_<i>.mp4``,
    ``<name>/seg_00001.m4s``… and ``master.m3u8`` (ffmpeg's; the pipeline writes
    its own master and media playlists from measured values, and encrypts).
    """
    out_dir = Path(out_dir)
    fps = output_frame_rate(frame_rate)
    gop = gop_frames(frame_rate)
    n = len(rungs)
    with_poster = poster_path is not None

    branches = n + (1 if with_poster else 0)
    # Absolute stream indexes from the probe when known: "the first video stream" can
    # be a cover picture in files from some apps.
    pre = f"[0:{video_stream}]" if video_stream is not None else "[0:v:0]"
    audio_map = f"0:{audio_stream}" if audio_stream is not None else "0:a:0"
    chain = []
    if frame_rate > MAX_FPS:
        chain.append(f"fps={fps:g}")
    head = ",".join(chain)
    graph = [
        f"{pre}{head + ',' if head else ''}split={branches}"
        + "".join(f"[s{i}]" for i in range(branches))
    ]
    for i, rung in enumerate(rungs):
        graph.append(
            f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,setsar=1,format=yuv420p[v{i}]"
        )
    if with_poster:
        top = rungs[0]
        at = poster_time(duration_seconds)
        graph.append(
            f"[s{n}]select='gte(t\\,{at})',scale={top.width}:{top.height}:flags=bicubic,"
            f"setsar=1,format=yuv420p[poster]"
        )

    cmd = [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "warning",
    ]
    if progress:
        cmd += ["-progress", "pipe:1", "-stats_period", "1", "-nostats"]
    cmd += ["-i", str(source), "-filter_complex", ";".join(graph)]
    for i in range(n):
        cmd += ["-map", f"[v{i}]"]
        if has_audio:
            cmd += ["-map", audio_map]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-profile:v",
        "high",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
    ]
    for i, rung in enumerate(rungs):
        cmd += [
            f"-b:v:{i}",
            f"{rung.video_kbps}k",
            f"-maxrate:v:{i}",
            f"{rung.maxrate_kbps}k",
            f"-bufsize:v:{i}",
            f"{rung.bufsize_kbps}k",
        ]
    if has_audio:
        cmd += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2", "-ar", "48000"]
    stream_map = " ".join(
        (f"v:{i},a:{i}" if has_audio else f"v:{i}") + f",name:{rung.name}"
        for i, rung in enumerate(rungs)
    )
    cmd += [
        "-f",
        "hls",
        "-hls_time",
        str(SEGMENT_SECONDS),
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        "init.mp4",
        "-start_number",
        "1",
        "-hls_segment_filename",
        str(out_dir / "%v" / "seg_%05d.m4s"),
        "-master_pl_name",
        "master.m3u8",
        "-var_stream_map",
        stream_map,
        str(out_dir / "%v" / "index.m3u8"),
    ]
    if with_poster:
        cmd += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1", str(poster_path)]
    return cmd


def command_line(cmd: list[str]) -> str:
    """A shell-quoted rendering (for logs and docs)."""
    import shlex

    return " ".join(shlex.quote(part) for part in cmd)


def segment_bound(duration_seconds: float) -> int:
    return max(1, math.ceil(duration_seconds / SEGMENT_SECONDS))
