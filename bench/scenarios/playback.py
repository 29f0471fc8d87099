"""Playback: signing the playlists of a two-hour video, and serving segments locally.

1. Signing: a two-hour video at 6-second segments has 1,200 segments per rung; with
   4 rungs a player's playlists hold 4,800 URLs, every one re-signed on every fetch.
   Per playlist, ``playback.render_media`` (parsed template from the process cache,
   1,200 segment URLs + init + key token, one key line per segment as each has its
   own IV) is timed against emitting the very same playlist with unsigned URLs.
   Goal: p50 < 5 ms per playlist. The CDN variant and the presigned-S3 fallback
   (boto3 signing, no network) are reported for reference.
2. Serving: the local token-checking segment view vs the same file served by the
   same code without the check, both through Django's full WSGI stack (middleware,
   host → school resolution, URL routing) in a bounded loop. Goal: ≥ 0.8x.
"""

from __future__ import annotations

import io
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

TITLE = "Video playback: playlist signing and segment serving"

SEGMENTS = 1200  # 2 h at 6 s
RUNGS = ("1080p", "720p", "480p", "360p")
ROUNDS = 60  # playlists rendered per rung and variant (4 x 60 = 240 samples)
SERVE_SECONDS = 3.0  # per variant and size, bounded
SERVE_MAX_REQUESTS = 3000
SIZES = {"1 MB segment": 1024 * 1024, "16 KB segment": 16 * 1024}


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _media_text() -> str:
    """The stored template as the pipeline writes it: a key line with its own IV
    before every segment."""
    from courseplatform.video.hls import media_playlist

    segments = [(f"seg_{n:05d}.m4s", 6.0) for n in range(1, SEGMENTS + 1)]
    return media_playlist(segments, ivs=[n.to_bytes(16, "big") for n in range(SEGMENTS)])


def _fake_asset() -> tuple[Any, list[Any]]:
    """Unsaved rows shaped like a READY two-hour asset, with its templates cached."""
    from django.utils import timezone

    from courseplatform.video import playback
    from courseplatform.video.models import Rendition, VideoAsset

    asset = VideoAsset(pk=10**9, school_id=42, uuid=uuid.uuid4(), updated_at=timezone.now())
    asset.hls_prefix = f"{asset.storage_prefix}hls/"
    template = playback.parse_media_template(_media_text())
    renditions = []
    for name in RUNGS:
        rendition = Rendition(
            asset=asset, name=name, playlist_key=f"{asset.hls_prefix}{name}/index.m3u8"
        )
        playback.templates._items[(rendition.playlist_key, playback._version(asset))] = template
        renditions.append(rendition)
    return asset, renditions


Samples = list[tuple[float, float]]  # (wall ms, CPU ms) per playlist


def _time_per_playlist(
    render: Callable[[Any], str], renditions: list[Any], rounds: int = ROUNDS
) -> Samples:
    for rendition in renditions:  # warm-up
        render(rendition)
    samples = []
    for _ in range(rounds):
        for rendition in renditions:
            wall, cpu = time.perf_counter(), time.thread_time()
            text = render(rendition)
            samples.append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))
            assert text.count("\n") > 2 * SEGMENTS
    return samples


def _signing_section() -> str:
    from django.test import override_settings
    from storages.backends.s3 import S3Storage

    from courseplatform.video import playback

    asset, renditions = _fake_asset()

    def unsigned(rendition: Any) -> str:
        template = playback.media_template(asset, rendition)
        directory = playback.local_segment_prefix() + rendition.playlist_key.rsplit("/", 1)[0] + "/"
        urls = [directory + name for name in template.names]
        return playback.fill(template, urls, playback.endpoint("key", lesson_id=1))

    def signed(rendition: Any) -> str:
        return playback.render_media(asset=asset, rendition=rendition, lesson_id=1, viewer="u1")

    rows = []
    baseline = _time_per_playlist(unsigned, renditions)
    variants: list[tuple[str, Samples]] = []
    with override_settings(VIDEO_CDN_BASE_URL=""):
        variants.append(("signed, local `/video/s/` URLs", _time_per_playlist(signed, renditions)))
    with override_settings(VIDEO_CDN_BASE_URL="https://cdn.example.com"):
        samples = _time_per_playlist(signed, renditions)
    variants.append(("signed, CDN URLs (`VIDEO_CDN_BASE_URL`)", samples))
    s3 = S3Storage(
        bucket_name="bench", endpoint_url="http://127.0.0.1:9", access_key="bench",
        secret_key="bench-secret", region_name="us-east-1", addressing_style="path",
        signature_version="s3v4", querystring_auth=True,
    )  # fmt: skip
    # boto3 presigning is slow: a few samples are enough
    with (
        override_settings(VIDEO_CDN_BASE_URL=""),
        mock.patch.object(playback, "default_storage", s3),
    ):
        samples = _time_per_playlist(signed, renditions, rounds=2)
    variants.append(("presigned S3 URLs (fallback without CDN)", samples))

    def p50(samples: Samples, which: int) -> float:
        return statistics.median(sample[which] for sample in samples)

    def p95(samples: Samples, which: int) -> float:
        return _percentile([sample[which] for sample in samples], 95)

    base_cpu = p50(baseline, 1)
    rows.append(
        f"| unsigned (baseline) | {len(baseline)} | {base_cpu:.2f} | {p95(baseline, 1):.2f} | "
        f"{p50(baseline, 0):.2f} | 1.00x | — |"
    )
    for label, samples in variants:
        cpu = p50(samples, 1)
        per_url_us = cpu * 1000 / (SEGMENTS + 1)
        goal = "(no goal)" if "presigned" in label else ("✅" if cpu < 5 else "❌")
        rows.append(
            f"| {label} | {len(samples)} | {cpu:.2f} | {p95(samples, 1):.2f} | "
            f"{p50(samples, 0):.2f} | {cpu / base_cpu:.1f}x ({per_url_us:.2f} µs/URL) | {goal} |"
        )
    return (
        f"Media playlists of a 2-hour video: {len(RUNGS)} rungs x {SEGMENTS:,} segments "
        f"(+ init and key), rendered per viewer by `playback.render_media` from the parsed "
        f"template. Goal: p50 < 5 ms per playlist, judged on the CPU time of the rendering "
        f"thread (wall time also shown: it includes time other processes had the CPU).\n\n"
        "| variant | playlists | p50 CPU ms | p95 CPU ms | p50 wall ms | vs unsigned | goal |\n"
        "|---|---:|---:|---:|---:|---:|:---:|\n" + "\n".join(rows)
    )


# --- serving -----------------------------------------------------------------------------


@contextmanager
def _school_with_segments() -> Iterator[tuple[Any, dict[str, str]]]:
    from django.core.files.storage import default_storage

    from courseplatform.tenancy.models import Plan, School

    # Only the tenant row is needed (host -> school); no owner, theme or pages.
    slug = f"bench-play-{uuid.uuid4().hex[:6]}"
    school = School.objects.create(slug=slug, name="Bench Playback", plan=Plan.objects.all()[0])
    prefix = f"schools/{school.pk}/videos/{uuid.uuid4()}/"
    keys = {}
    for label, size in SIZES.items():
        key = f"{prefix}hls/1080p/seg_{size:08d}.m4s"
        default_storage.save(key, io.BytesIO(bytes(range(256)) * (size // 256)))
        keys[label] = key
    try:
        yield school, keys
    finally:
        shutil.rmtree(Path(default_storage.path(prefix)), ignore_errors=True)
        # The school row stays: the runtime role may not delete schools (tenancy/grants.py),
        # and `make bench` recreates its database on every run anyway.


def _environ(host: str, path: str, query: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host, "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }  # fmt: skip


def _paired_throughput(
    app: Any, host: str, size: int, baseline: tuple[str, str], checked: tuple[str, str]
) -> tuple[float, float]:
    """Requests per second of two URLs, measured in alternating blocks so that drift
    (other processes, CPU frequency) hits both alike; each response is read to the end."""
    status: list[str] = []

    def start_response(s: str, headers: list[Any], exc_info: Any = None) -> None:
        status.append(s)

    def one(path: str, query: str) -> None:
        body = app(_environ(host, path, query), start_response)
        try:
            got = sum(len(chunk) for chunk in body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if not status[-1].startswith("200") or got != size:
            raise RuntimeError(f"{path}: {status[-1]}, {got} bytes")

    for _ in range(20):  # warm-up
        one(*baseline)
        one(*checked)
    spent = {baseline: 0.0, checked: 0.0}
    count = 0
    block = 25
    deadline = time.perf_counter() + 2 * SERVE_SECONDS
    while count < SERVE_MAX_REQUESTS and time.perf_counter() < deadline:
        for target in (baseline, checked) if count % (2 * block) == 0 else (checked, baseline):
            started = time.perf_counter()
            for _ in range(block):
                one(*target)
            spent[target] += time.perf_counter() - started
        count += block
    return count / spent[baseline], count / spent[checked]


def _serving_section() -> str:
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path

    import courseplatform.tenancy.middleware as tenancy_middleware
    from courseplatform.video import playback, signing, views_playback

    def unchecked(request: Any, key: str) -> Any:  # the same file, no token, no prefix check
        return views_playback.serve_file(request, key)

    bench_urls = type(sys)("bench_playback_urls")
    # The unchecked route is matched first; /video/s/ sits inside two includes (a little
    # more resolving), so the comparison is, if anything, unfair to the checked view.
    bench_urls.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/raw/<path:key>", unchecked),
        path("", include(tenancy_middleware.SCHOOL_URLCONF)),
    ]
    sys.modules["bench_playback_urls"] = bench_urls
    rows = []
    with (
        _school_with_segments() as (school, keys),
        mock.patch.object(tenancy_middleware, "SCHOOL_URLCONF", "bench_playback_urls"),
    ):
        app = WSGIHandler()
        host = f"{school.slug}.localhost"
        for label, key in keys.items():
            size = SIZES[label]
            signed = signing.sign_path(playback.segment_message(key))
            seg_path, _, query = signed.partition("?")
            baseline, checked = _paired_throughput(
                app, host, size, (f"/bench/raw/{key}", ""), (seg_path, query)
            )
            ratio = checked / baseline
            rows.append(
                f"| {label} | {baseline:,.0f} ({baseline * size / 1e6:,.0f} MB/s) | "
                f"{checked:,.0f} ({checked * size / 1e6:,.0f} MB/s) | {ratio:.2f}x | "
                f"{'✅' if ratio >= 0.8 else '❌'} |"
            )
        # the token check on its own
        message = playback.segment_message(keys["16 KB segment"])
        token = signing.sign_path(message).partition("=")[2]
        n = 20000
        started = time.perf_counter()
        for _ in range(n):
            signing.verify(message, token)
        verify_us = (time.perf_counter() - started) / n * 1e6
    return (
        "GET of one segment through Django's WSGI handler (all middleware, host → school, "
        "routing), response read to the end, one process, sequential, the two variants "
        f"alternating in blocks of 25; bounded to {2 * SERVE_SECONDS:.0f} s or "
        f"{SERVE_MAX_REQUESTS:,} requests per variant and size. Baseline: the "
        "same file served by the same code (`serve_file`) on a route without the token "
        "check. Goal: ≥ 0.8x.\n\n"
        "| file | without check, req/s | token-checking view, req/s | ratio | goal |\n"
        "|---|---:|---:|---:|:---:|\n" + "\n".join(rows) + "\n\n"
        f"`signing.verify` alone ({len(signing.get_signer()._keys)} secret(s) configured): "
        f"{verify_us:.1f} µs per token."
    )


def run() -> str:
    return (
        "### Signing playlists\n\n"
        + _signing_section()
        + "\n\n### Serving segments\n\n"
        + (_serving_section())
    )
