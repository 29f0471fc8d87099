"""The transcode series move with real transcodes: duration and realtime factor of a
success, and failures by kind (the file, a retry, failed for good)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from courseplatform.video import pipeline
from courseplatform.video.tasks import run_transcode_job
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    CLIPS,
    clip_dir_fixture,
    clip_path_fixture,
    local_media_fixture,
    process,
    upload,
)

pytestmark = pytest.mark.django_db

SMALL = CLIPS["no_audio"]  # 640x360, 3 s: the cheapest real transcode


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_transcode_records_its_duration_and_realtime_factor(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    durations = _value("courseplatform_transcode_duration_seconds_count")
    factors = _value("courseplatform_transcode_realtime_factor_count")
    factor_sum = _value("courseplatform_transcode_realtime_factor_sum")
    outcome, _ = process(school_a.school, school_a.owner, clip_path(SMALL.name))
    assert outcome == "ready"
    assert _value("courseplatform_transcode_duration_seconds_count") == durations + 1
    assert _value("courseplatform_transcode_realtime_factor_count") == factors + 1
    factor = _value("courseplatform_transcode_realtime_factor_sum") - factor_sum
    assert factor > 0  # 3 s of video over the wall time it took


def test_failures_are_counted_by_kind(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    name = "courseplatform_transcode_failures_total"
    before = {kind: _value(name, kind=kind) for kind in ("permanent", "retrying", "exhausted")}
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_bytes(b"these are lecture notes, not a video\n" * 100)
    outcome, _ = process(school_a.school, school_a.owner, not_a_video)
    assert outcome == "failed"

    settings.VIDEO_MAX_ATTEMPTS = 2

    def storage_down(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(pipeline, "upload_outputs", storage_down)
    school = school_a.school
    asset = upload(school, school_a.owner, clip_path(SMALL.name))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "retrying"
        assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "failed"
    moved = {kind: _value(name, kind=kind) - before[kind] for kind in before}
    assert moved == {"permanent": 1, "retrying": 1, "exhausted": 1}
