"""The CODECS attribute read from an init segment (used when ffmpeg's master playlist
does not name it) matches what ffmpeg itself writes: profile, constraint flags and
level from the avcC record, plus AAC when the video has sound."""

from __future__ import annotations

import re

from courseplatform.video.hls import codecs_from_init

from .playback_support import HlsOutput


def test_codecs_from_init_match_ffmpegs_own_codecs(hls: HlsOutput) -> None:
    for rung in hls.rungs:
        init = hls.root / "hls" / rung.name / "init.mp4"
        video = codecs_from_init(init, False)
        assert re.fullmatch(r"avc1\.[0-9a-f]{6}", video), video
        assert video == rung.codecs.split(",")[0]
        assert codecs_from_init(init, True) == f"{video},mp4a.40.2"
