"""Playlist templates (``video/playback.py``): blank lines, URI attributes the contract
does not know, a master built from Rendition rows, and the bounded per-process cache
of parsed templates (least recently used goes first; ``clear`` forgets everything)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from courseplatform.video import playback
from courseplatform.video.models import Rendition

MEDIA = '#EXTM3U\n\n#EXT-X-MAP:URI="init.mp4"\n\n#EXTINF:6.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n'


def test_media_template_skips_blank_lines_and_refuses_unknown_uri_attributes() -> None:
    template = playback.parse_media_template(MEDIA)
    assert template.names == ["init.mp4", "seg_00001.m4s"]
    assert playback.fill(template, ["I", "S"]) == (
        '#EXTM3U\n#EXT-X-MAP:URI="I"\n#EXTINF:6.0,\nS\n#EXT-X-ENDLIST\n'
    )
    with pytest.raises(playback.PlaylistError, match="unexpected URI attribute"):
        playback.parse_media_template(
            MEDIA + '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="a",URI="audio.m3u8"\n'
        )


def test_master_template_slots_stream_lines_and_uri_attributes() -> None:
    text = (
        "#EXTM3U\n\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n360p/index.m3u8\n"
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="720p/index.m3u8"\n'
    )
    template = playback.parse_master_template(text)
    assert template.names == ["360p", "720p"]
    assert playback.fill(template, ["A", "B"]) == (
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nA\n#EXT-X-I-FRAME-STREAM-INF:"
        'BANDWIDTH=90000,URI="B"\n'
    )


def test_master_from_renditions_lists_each_rendition_with_its_attributes() -> None:
    renditions = [
        Rendition(
            name=name, width=width, height=height, bandwidth=bandwidth,
            average_bandwidth=bandwidth // 2, codecs="avc1.64001f,mp4a.40.2", frame_rate=30,
        )
        for name, width, height, bandwidth in (("360p", 640, 360, 900_000),
                                               ("720p", 1280, 720, 3_000_000))
    ]  # fmt: skip
    template = playback.master_from_renditions(renditions)
    assert template.names == ["360p", "720p"]
    filled = playback.fill(template, ["low", "high"])
    assert (
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=1500000,RESOLUTION=1280x720,"
        'CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000\nhigh\n'
    ) in filled
    assert filled.startswith("#EXTM3U\n#EXT-X-VERSION:7\n")


@pytest.fixture
def local_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"},
        },
    }
    return tmp_path


def test_template_cache_evicts_the_least_recently_used_and_clears(local_storage: Path) -> None:
    cache = playback._TemplateCache(size=2)
    for key in ("a.m3u8", "b.m3u8", "c.m3u8"):
        default_storage.save(key, ContentFile(MEDIA.encode()))
    parse = playback.parse_media_template
    cache.get("a.m3u8", "v1", parse)
    cache.get("b.m3u8", "v1", parse)
    cache.get("a.m3u8", "v1", parse)  # a is now the most recently used
    cache.get("c.m3u8", "v1", parse)  # b goes
    for key in ("a.m3u8", "b.m3u8", "c.m3u8"):
        default_storage.delete(key)
    assert cache.get("a.m3u8", "v1", parse).names == ["init.mp4", "seg_00001.m4s"]
    assert cache.get("c.m3u8", "v1", parse).names == ["init.mp4", "seg_00001.m4s"]
    with pytest.raises(FileNotFoundError):
        cache.get("b.m3u8", "v1", parse)
    # Another version of a cached key is read again.
    with pytest.raises(FileNotFoundError):
        cache.get("a.m3u8", "v2", parse)
    cache.clear()
    with pytest.raises(FileNotFoundError):
        cache.get("c.m3u8", "v1", parse)
