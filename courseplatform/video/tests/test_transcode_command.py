"""`manage.py transcode_video <uuid>`: an operator transcodes one video in the foreground
with real ffmpeg, the way the worker would (claim, probe, ladder, publish)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from courseplatform.tenancy.rls import school_context
from courseplatform.video import services
from courseplatform.video.models import VideoAsset
from courseplatform.video.pipeline import TranscodeError
from courseplatform.video.probe import NOT_A_VIDEO
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    CLIPS,
    check_ladder,
    clip_dir_fixture,
    clip_path_fixture,
    list_keys,
    local_media_fixture,
)

# The command finds the video as the platform role (its own connection): the rows it
# looks for must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _stored_asset(school: Any, owner: Any, path: Path | None) -> VideoAsset:
    """An asset whose upload finished (its bytes are in storage) but nothing queued it."""
    size = path.stat().st_size if path is not None else 1000
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="lesson.mp4", size=size)
        if path is not None:
            with path.open("rb") as fh:
                default_storage.save(asset.source_key, File(fh))
    return asset


def _reload(school: Any, asset: VideoAsset) -> VideoAsset:
    with school_context(school):
        return VideoAsset.objects.get(school=school, pk=asset.pk)


def test_transcode_video_command_publishes_the_ladder(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    clip = CLIPS["no_audio"]
    asset = _stored_asset(school_a.school, school_a.owner, clip_path(clip.name))
    out = io.StringIO()
    call_command("transcode_video", str(asset.uuid), stdout=out)
    asset = _reload(school_a.school, asset)
    with school_context(school_a.school):
        check_ladder(asset, clip)
    printed = out.getvalue()
    assert re.search(r"^  transcoding… \d+%$", printed, re.M)  # progress, as the worker logs
    assert "ready: 1 renditions (360p)" in printed
    assert printed.rstrip().endswith(": ready")
    assert asset.started_at is not None and asset.finished_at is not None


def test_transcode_video_command_unknown_uuid_changes_nothing(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    asset = _stored_asset(school_a.school, school_a.owner, clip_path("no_audio"))
    with pytest.raises(CommandError, match="No video with that UUID"):
        call_command("transcode_video", str(uuid.uuid4()), stdout=io.StringIO())
    assert _reload(school_a.school, asset).status == VideoAsset.Status.UPLOADING


def test_transcode_video_command_refuses_an_asset_without_source(
    school_a: Any, local_media: Path
) -> None:
    asset = _stored_asset(school_a.school, school_a.owner, None)
    with school_context(school_a.school):
        VideoAsset.objects.filter(pk=asset.pk).update(source_key="")
    with pytest.raises(CommandError, match="no uploaded source"):
        call_command("transcode_video", str(asset.uuid), stdout=io.StringIO())
    reloaded = _reload(school_a.school, asset)
    assert reloaded.status == VideoAsset.Status.UPLOADING
    assert reloaded.started_at is None and reloaded.error_message == ""


def test_transcode_video_command_unreadable_file_fails_with_the_instructors_message(
    school_a: Any, local_media: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "lesson.mp4"
    notes.write_text("These are my lecture notes, not a video.\n")
    asset = _stored_asset(school_a.school, school_a.owner, notes)
    with pytest.raises(CommandError) as raised:
        call_command("transcode_video", str(asset.uuid), stdout=io.StringIO())
    assert str(raised.value) == NOT_A_VIDEO
    reloaded = _reload(school_a.school, asset)
    assert reloaded.status == VideoAsset.Status.FAILED
    assert reloaded.error_message == NOT_A_VIDEO
    assert reloaded.finished_at is not None
    with school_context(school_a.school):
        assert not reloaded.renditions.exists()
    assert list_keys(asset.storage_prefix) == [asset.source_key]  # the upload is kept


def test_transcode_video_command_missing_source_file_marks_failed_and_raises(
    school_a: Any, local_media: Path
) -> None:
    """The key is recorded but the bytes are gone from storage: not a probe problem, so
    the error propagates as is (an operator sees the traceback) after marking failed."""
    asset = _stored_asset(school_a.school, school_a.owner, None)
    with pytest.raises(TranscodeError, match="missing from storage"):
        call_command("transcode_video", str(asset.uuid), stdout=io.StringIO())
    reloaded = _reload(school_a.school, asset)
    assert reloaded.status == VideoAsset.Status.FAILED
    assert "missing from storage" in reloaded.error_message
