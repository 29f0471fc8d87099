"""Only a segment may be cached: the segment view's 200 and 206 answers are
``public, max-age=31536000, immutable``; every other answer (403, 404, 405, 416,
the redirect to presigned S3) is ``no-store``, so no CDN or browser keeps an error
in place of a segment for a year."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from courseplatform.tenancy.rls import school_context
from courseplatform.video import signing
from courseplatform.video.models import VideoAsset
from courseplatform.video.views_playback import IMMUTABLE
from tests.fixtures.schools import host_of

from .playback_support import HlsOutput, remove_asset_files, store_ready_asset

pytestmark = pytest.mark.django_db

SEGMENT = "360p/seg_00001.m4s"


@pytest.fixture
def asset(school_a: Any, hls: HlsOutput) -> Iterator[VideoAsset]:
    with school_context(school_a.school):
        stored = store_ready_asset(school=school_a.school, owner=school_a.owner, hls=hls)
    yield stored
    remove_asset_files(stored)


def _path(asset: VideoAsset, name: str = SEGMENT) -> str:
    return f"/video/s/{asset.hls_prefix}{name}"


def _size(asset: VideoAsset) -> int:
    return int(default_storage.size(f"{asset.hls_prefix}{SEGMENT}"))


def assert_not_cached(response: Any, status: int) -> None:
    assert response.status_code == status
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "no-store" in directives
    assert not directives & {"public", "immutable"} and "max-age" not in response["Cache-Control"]


def test_segment_success_is_immutable(school_a: Any, asset: VideoAsset) -> None:
    client = Client(HTTP_HOST=host_of(school_a.school))
    url = signing.sign_path(_path(asset))
    assert client.get(url)["Cache-Control"] == IMMUTABLE
    partial = client.get(url, HTTP_RANGE="bytes=0-99")
    assert partial.status_code == 206 and partial["Cache-Control"] == IMMUTABLE
    assert client.head(url)["Cache-Control"] == IMMUTABLE


def test_segment_unsatisfiable_range_416_is_not_cached(school_a: Any, asset: VideoAsset) -> None:
    client = Client(HTTP_HOST=host_of(school_a.school))
    size = _size(asset)
    response = client.get(signing.sign_path(_path(asset)), HTTP_RANGE=f"bytes={size}-")
    assert_not_cached(response, 416)
    assert response["Content-Range"] == f"bytes */{size}"
    assert_not_cached(client.get(signing.sign_path(_path(asset)), HTTP_RANGE="bytes=-0"), 416)


@pytest.mark.parametrize("token", ["none", "expired", "tampered", "other_path"])
def test_segment_refused_token_403_is_not_cached(
    school_a: Any, asset: VideoAsset, token: str
) -> None:
    path = _path(asset)
    stale = int(time.time()) - signing.get_signer().ttl - 1
    signed = signing.sign_path(path)
    url = {
        "none": path,
        "expired": f"{path}?verify={signing.token(path, issued=stale)}",
        "tampered": signed[:-1] + ("B" if signed.endswith("A") else "A"),
        "other_path": f"{path}?verify={signing.token(_path(asset, '360p/init.mp4'))}",
    }[token]
    response = Client(HTTP_HOST=host_of(school_a.school)).get(url)
    assert_not_cached(response, 403)


@pytest.mark.parametrize("where", ["missing_file", "outside_videos", "other_school_host"])
def test_segment_not_found_404_is_not_cached(
    school_a: Any, school_b: Any, asset: VideoAsset, where: str
) -> None:
    host = host_of(school_b.school if where == "other_school_host" else school_a.school)
    path = {
        "missing_file": _path(asset, "360p/seg_09999.m4s"),
        "outside_videos": f"/video/s/schools/{school_a.school.pk}/attachments/x.pdf",
        "other_school_host": _path(asset),
    }[where]
    response = Client(HTTP_HOST=host).get(signing.sign_path(path))
    assert_not_cached(response, 404)


def test_segment_wrong_method_405_is_not_cached(school_a: Any, asset: VideoAsset) -> None:
    # With CSRF enforced: the refusal comes from the view (405), not a CSRF 403 page.
    client = Client(HTTP_HOST=host_of(school_a.school), enforce_csrf_checks=True)
    for method in (client.post, client.put, client.delete):
        assert_not_cached(method(signing.sign_path(_path(asset))), 405)


def test_segment_redirect_to_presigned_s3_is_not_cached(
    school_a: Any, hls: HlsOutput, s3_default_storage: Any, s3_server: Any
) -> None:
    with school_context(school_a.school):
        stored = store_ready_asset(
            school=school_a.school, owner=school_a.owner, hls=hls, storage=s3_default_storage
        )
    try:
        response = Client(HTTP_HOST=host_of(school_a.school)).get(signing.sign_path(_path(stored)))
        assert_not_cached(response, 302)
        assert response["Location"].startswith(s3_server.endpoint_url + "/")
    finally:
        remove_asset_files(stored, s3_default_storage)
