"""The transcode pipeline end to end with real ffmpeg: generated clips in, an
encrypted fMP4 HLS ladder out, read back from storage, decrypted and checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from courseplatform.tenancy.rls import school_context
from courseplatform.video import services
from courseplatform.video.models import Rendition, VideoAsset
from courseplatform.video.probe import DAMAGED, NOT_A_VIDEO
from courseplatform.video.tasks import run_transcode_job
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    CLIPS,
    check_ladder,
    clip_dir_fixture,
    clip_path_fixture,
    list_keys,
    local_media_fixture,
    process,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_transcode_ladder_for_each_input(
    name: str, school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    outcome, asset = process(school_a.school, school_a.owner, clip_path(name))
    assert outcome == "ready"
    with school_context(school_a.school):
        check_ladder(asset, CLIPS[name])


def test_transcode_rotated_phone_clip_is_upright(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    _, asset = process(school_a.school, school_a.owner, clip_path("rotated_phone"))
    assert (asset.width, asset.height, asset.rotation) == (1280, 720, 90)
    with school_context(school_a.school):
        top = asset.renditions.get(name="720p")
    assert (top.width, top.height) == (720, 1280)


def _bad_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [("text", NOT_A_VIDEO), ("random", NOT_A_VIDEO), ("truncated", DAMAGED)],
)
def test_transcode_unusable_file_fails_with_message_and_changes_nothing(
    kind: str,
    message: str,
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    tmp_path: Path,
) -> None:
    if kind == "text":
        path = _bad_file(tmp_path, "lecture.mp4", b"These are my lecture notes, not a video.\n")
    elif kind == "random":
        path = _bad_file(tmp_path, "noise.mp4", bytes(range(256)) * 800)
    else:
        data = clip_path("portrait_720x1280").read_bytes()
        path = _bad_file(tmp_path, "cut.mp4", data[: len(data) // 3])
    outcome, asset = process(school_a.school, school_a.owner, path)
    assert outcome == "failed"
    assert asset.status == VideoAsset.Status.FAILED
    assert asset.error_message == message
    assert asset.attempts == 1
    assert asset.duration_seconds is None and asset.width is None
    with school_context(school_a.school):
        assert not Rendition.objects.filter(asset_id=asset.pk).exists()
    assert list_keys(asset.storage_prefix) == [asset.source_key]  # the upload is kept


def test_transcode_longer_than_plan_minutes_fails(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path, plan_limits: Any
) -> None:
    path = clip_path("no_audio")
    asset = upload(school_a.school, school_a.owner, path)
    plan_limits(school_a.school.plan, max_video_minutes=0)
    run_transcode_job(school_id=school_a.school.pk, asset_id=asset.pk)
    with school_context(school_a.school):
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.FAILED
    assert "minutes long" in asset.error_message and "upgrade your plan" in asset.error_message
    assert list_keys(asset.storage_prefix) == [asset.source_key]


def test_transcode_larger_than_plan_upload_limit_fails(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path, plan_limits: Any
) -> None:
    path = clip_path("no_audio")
    asset = upload(school_a.school, school_a.owner, path)
    plan_limits(school_a.school.plan, max_upload_bytes=1000)
    run_transcode_job(school_id=school_a.school.pk, asset_id=asset.pk)
    with school_context(school_a.school):
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.FAILED
    assert "accepts videos up to" in asset.error_message


def test_transcode_to_s3_storage(
    school_a: Any,
    clip_path: Callable[[str], Path],
    s3_server: Any,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The S3 path end to end against SeaweedFS: source download, upload of the ladder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": s3_server.bucket,
                "endpoint_url": s3_server.endpoint_url,
                "access_key": s3_server.access_key,
                "secret_key": s3_server.secret_key,
                "security_token": None,
                "session_profile": None,
                "region_name": s3_server.region,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "addressing_style": "path",
                "signature_version": "s3v4",
            },
        },
    }
    settings.VIDEO_WORK_DIR = str(tmp_path / "work")
    assert hasattr(default_storage, "bucket")
    clip = CLIPS["portrait_720x1280"]
    outcome, asset = process(school_a.school, school_a.owner, clip_path(clip.name))
    assert outcome == "ready", asset.error_message
    with school_context(school_a.school):
        check_ladder(asset, clip)
    keys = list_keys(asset.storage_prefix)
    assert f"{asset.storage_prefix}hls/720p/seg_00001.m4s" in keys
    assert list((tmp_path / "work").iterdir()) == []
    # deleting removes every object under the asset's prefix from the bucket
    with (
        school_context(school_a.school),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.delete_asset(school=school_a.school, actor=school_a.owner, asset=asset)
    assert list_keys(asset.storage_prefix) == []
