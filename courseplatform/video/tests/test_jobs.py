"""Reliability of transcode jobs and the video services: retries, the watchdog,
idempotent re-runs, cancellation by deletion, temp-file hygiene, quotas, two schools."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from courseplatform.ops.crypto import decrypt
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from courseplatform.video import pipeline, services
from courseplatform.video import selectors as video_selectors
from courseplatform.video.models import Rendition, VideoAsset
from courseplatform.video.tasks import (
    WATCHDOG_REASON,
    reclaim_stalled_videos,
    run_transcode_job,
)
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

SMALL = CLIPS["no_audio"]  # 640x360, 3 s, one rung: the cheapest real transcode


def _work_dir(local_media: Path) -> Path:
    return local_media.parent / "work"


def _enqueued(asset: VideoAsset) -> list[DBTaskResult]:
    return [
        t
        for t in DBTaskResult.objects.filter(task_path__endswith="transcode_video")
        if t.args_kwargs["args"] == [asset.school_id, asset.pk]
    ]


# --- idempotence, temp files, deletion -----------------------------------------------


def test_job_rerun_is_idempotent(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    _, asset = process(school, owner, clip_path(SMALL.name))
    with school_context(school):
        first_keys = list_keys(asset.storage_prefix)
        first_key = decrypt(asset.encryption_key_ciphertext)
        services.retry_processing(school=school, actor=owner, asset=asset)
    assert asset.status == VideoAsset.Status.QUEUED
    assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "ready"
    with school_context(school):
        asset.refresh_from_db()
        check_ladder(asset, SMALL)
        assert Rendition.objects.filter(asset=asset).count() == 1
        assert list_keys(asset.storage_prefix) == first_keys  # same files, no leftovers
        assert decrypt(asset.encryption_key_ciphertext) != first_key  # fresh key per run
    # a duplicate delivery of the same task does nothing
    assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "skipped"


def test_job_temp_dir_removed_after_success_and_failure(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path, tmp_path: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    work = _work_dir(local_media)
    assert process(school, owner, clip_path(SMALL.name))[0] == "ready"
    assert work.is_dir() and list(work.iterdir()) == []

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    assert process(school, owner, bad)[0] == "failed"
    assert list(work.iterdir()) == []


def test_job_temp_dir_removed_when_ffmpeg_fails(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Path] = []
    real = pipeline.run_ffmpeg

    def broken(cmd: list[str], **kwargs: Any) -> None:
        seen.append(kwargs["log_path"].parent)
        real([*cmd[:-1], "/nonexistent-dir/x.jpg"], **kwargs)  # ffmpeg exits 1

    monkeypatch.setattr(pipeline, "run_ffmpeg", broken)
    outcome, asset = process(school_a.school, school_a.owner, clip_path(SMALL.name))
    assert outcome == "failed"
    assert "We could not convert this video" in asset.error_message
    assert seen and not seen[0].exists()
    assert list(_work_dir(local_media).iterdir()) == []


def test_delete_asset_removes_files_rows_and_detaches(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    school, owner = school_a.school, school_a.owner
    _, asset = process(school, owner, clip_path(SMALL.name))
    assert len(list_keys(asset.storage_prefix)) > 3
    with school_context(school), django_capture_on_commit_callbacks(execute=True):
        services.delete_asset(school=school, actor=owner, asset=asset)
        assert not VideoAsset.objects.filter(pk=asset.pk).exists()
        assert not Rendition.objects.filter(asset_id=asset.pk).exists()
        assert AuditLog.objects.filter(school=school, action="video.deleted").exists()
    assert list_keys(asset.storage_prefix) == []
    assert not (local_media / asset.storage_prefix).exists()


def test_delete_cancels_running_job_and_kills_ffmpeg(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The instructor deletes the video while ffmpeg runs: at the next heartbeat the
    job finds its row gone, kills ffmpeg, cleans up and removes its files."""
    school, owner = school_a.school, school_a.owner
    monkeypatch.setattr(pipeline, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(pipeline, "MIN_UPDATE_SECONDS", 0.0)
    asset = upload(school, owner, clip_path("odd_853x480"))
    processes: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        proc = real_popen(*args, **kwargs)
        processes.append(proc)
        return proc

    monkeypatch.setattr(pipeline.subprocess, "Popen", spy)
    real_beat = pipeline.Claim.beat
    deleted: list[bool] = []

    def beat(self: pipeline.Claim, percent: int | None = None, *, force: bool = False) -> None:
        if percent and not deleted:  # first progress report from ffmpeg: delete now
            deleted.append(True)
            with django_capture_on_commit_callbacks(execute=True):
                services.delete_asset(school=school, actor=owner, asset=asset)
        real_beat(self, percent, force=force)

    monkeypatch.setattr(pipeline.Claim, "beat", beat)
    assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "cancelled"
    assert deleted and processes
    assert all(p.returncode is not None for p in processes)
    assert list_keys(asset.storage_prefix) == []
    assert list(_work_dir(local_media).iterdir()) == []


# --- retries -------------------------------------------------------------------------


def test_transient_failure_is_retried_with_backoff_then_fails(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.VIDEO_MAX_ATTEMPTS = 2
    settings.VIDEO_RETRY_BACKOFF_SECONDS = 30
    school = school_a.school

    def storage_down(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(pipeline, "upload_outputs", storage_down)
    asset = upload(school, school_a.owner, clip_path(SMALL.name))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "retrying"
    with school_context(school):
        asset.refresh_from_db()
    assert (asset.status, asset.attempts, asset.error_message) == ("queued", 1, "")
    [retry] = _enqueued(asset)
    assert retry.queue_name == "video"
    assert retry.run_after > timezone.now() + timedelta(seconds=20)  # backoff, not at once

    with django_capture_on_commit_callbacks(execute=True):
        assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "failed"
    with school_context(school):
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.FAILED
    assert asset.attempts == 2
    assert "Processing failed 2 times" in asset.error_message
    assert "temporary storage problem" in asset.error_message
    assert len(_enqueued(asset)) == 1  # no third attempt queued
    assert list(_work_dir(local_media).iterdir()) == []


def test_ffmpeg_killed_by_signal_is_transient(
    school_a: Any, clip_path: Callable[[str], Path], local_media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def killed(cmd: list[str], **kwargs: Any) -> None:
        raise pipeline._classify_ffmpeg_failure(-9, "")

    monkeypatch.setattr(pipeline, "run_ffmpeg", killed)
    outcome, asset = process(school_a.school, school_a.owner, clip_path(SMALL.name))
    assert outcome == "retrying" and asset.status == VideoAsset.Status.QUEUED


def test_backoff_doubles_and_is_capped(settings: Any) -> None:
    from courseplatform.video.tasks import backoff_seconds

    settings.VIDEO_RETRY_BACKOFF_SECONDS = 30
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20) == 15 * 60


# --- watchdog ------------------------------------------------------------------------


def _stale(school: Any, owner: Any, *, attempts: int = 1, minutes: int = 10) -> VideoAsset:
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="a.mp4", size=1000)
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.PROCESSING,
            attempts=attempts,
            started_at=timezone.now() - timedelta(minutes=minutes + 1),
            heartbeat_at=timezone.now() - timedelta(minutes=minutes),
        )
        asset.refresh_from_db()
    return asset


def _watchdog_audit() -> list[AuditLog]:
    return list(
        AuditLog.objects.filter(
            school=None, action="platform.rls_bypass", data__reason=WATCHDOG_REASON
        )
    )


@pytest.mark.django_db(transaction=True)
def test_watchdog_requeues_stalled_jobs_across_schools(
    school_a: Any, school_b: Any, django_capture_on_commit_callbacks: Any
) -> None:
    stale_a = _stale(school_a.school, school_a.owner)
    stale_b = _stale(school_b.school, school_b.owner)
    fresh = _stale(school_a.school, school_a.owner, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        results = reclaim_stalled_videos(timeout_seconds=300)
    assert sorted(results) == sorted(
        [
            (school_a.school.pk, stale_a.pk, "requeued"),
            (school_b.school.pk, stale_b.pk, "requeued"),
        ]
    )
    for school, asset, status in [
        (school_a.school, stale_a, "queued"),
        (school_b.school, stale_b, "queued"),
        (school_a.school, fresh, "processing"),
    ]:
        with school_context(school):
            asset.refresh_from_db()
        assert asset.status == status
    assert len(_enqueued(stale_a)) == 1 and len(_enqueued(stale_b)) == 1
    assert not _enqueued(fresh)
    (entry,) = _watchdog_audit()
    assert sorted(entry.data["reclaimed"], key=lambda r: r["video"]) == [
        {"school": school_a.school.pk, "video": stale_a.pk, "outcome": "requeued"},
        {"school": school_b.school.pk, "video": stale_b.pk, "outcome": "requeued"},
    ]


@pytest.mark.django_db(transaction=True)
def test_watchdog_fails_job_out_of_attempts(school_a: Any, settings: Any) -> None:
    settings.VIDEO_MAX_ATTEMPTS = 3
    asset = _stale(school_a.school, school_a.owner, attempts=3)
    assert reclaim_stalled_videos(timeout_seconds=300) == [(school_a.school.pk, asset.pk, "failed")]
    with school_context(school_a.school):
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.FAILED
    assert "stopped responding 3 times" in asset.error_message
    (entry,) = _watchdog_audit()
    assert entry.data["reclaimed"] == [
        {"school": school_a.school.pk, "video": asset.pk, "outcome": "failed"}
    ]


@pytest.mark.django_db(transaction=True)
def test_watchdog_writes_no_audit_entry_when_nothing_is_stalled(
    school_a: Any, school_b: Any
) -> None:
    """It runs every minute: a run that re-queues nothing leaves the audit log alone."""
    assert reclaim_stalled_videos(timeout_seconds=300) == []  # no videos at all
    fresh = _stale(school_a.school, school_a.owner, minutes=1)  # still beating
    with school_context(school_b.school):  # stale heartbeat, but not processing
        queued = services.create_asset(
            school=school_b.school, actor=school_b.owner, filename="b.mp4", size=1000
        )
        VideoAsset.objects.filter(pk=queued.pk).update(
            status=VideoAsset.Status.QUEUED, heartbeat_at=timezone.now() - timedelta(hours=1)
        )
    for _ in range(3):
        assert reclaim_stalled_videos(timeout_seconds=300) == []
    assert _watchdog_audit() == []
    with school_context(school_a.school):
        fresh.refresh_from_db()
    assert fresh.status == VideoAsset.Status.PROCESSING and not _enqueued(fresh)


@pytest.mark.django_db(transaction=True)
def test_watchdog_reclaimed_job_runs_again_and_old_worker_stands_down(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A reclaimed asset is claimed anew (new token); the hung run, if it wakes up,
    no longer owns it and stops at its next heartbeat."""
    school = school_a.school
    asset = upload(school, school_a.owner, clip_path(SMALL.name))
    with school_context(school):
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.PROCESSING,
            attempts=1,
            started_at=timezone.now() - timedelta(hours=1),
            heartbeat_at=timezone.now() - timedelta(hours=1),
        )
        asset.refresh_from_db()
    assert asset.started_at is not None
    old_claim = pipeline.Claim(school=school, asset_id=asset.pk, token=asset.started_at)
    with django_capture_on_commit_callbacks(execute=True):
        reclaim_stalled_videos(timeout_seconds=60)
    assert run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "ready"
    with school_context(school):
        asset.refresh_from_db()
        assert asset.attempts == 2 and asset.status == VideoAsset.Status.READY
        with pytest.raises(pipeline.Cancelled):
            old_claim.beat(50, force=True)


@pytest.mark.django_db(transaction=True)
def test_reclaim_command(school_a: Any, capsys: pytest.CaptureFixture[str]) -> None:
    asset = _stale(school_a.school, school_a.owner)
    call_command("reclaim_stalled_videos", "--timeout", "300")
    assert f"video {asset.pk} (school {school_a.school.pk}): requeued" in capsys.readouterr().out
    call_command("reclaim_stalled_videos")
    assert "No stalled videos." in capsys.readouterr().out


def test_progress_and_heartbeat_written_during_transcode(
    school_a: Any,
    clip_path: Callable[[str], Path],
    local_media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "MIN_UPDATE_SECONDS", 0.0)
    seen: list[tuple[int, Any]] = []
    real_update = pipeline.Claim.beat

    def beat(self: pipeline.Claim, percent: int | None = None, *, force: bool = False) -> None:
        real_update(self, percent, force=force)
        row = VideoAsset.objects.get(pk=self.asset_id)
        seen.append((row.progress_percent, row.heartbeat_at))

    monkeypatch.setattr(pipeline.Claim, "beat", beat)
    outcome, asset = process(school_a.school, school_a.owner, clip_path("odd_853x480"))
    assert outcome == "ready"
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and max(percents) >= 90 and min(percents) == 0
    assert all(h is not None for _, h in seen)
    assert asset.progress_percent == 100 and asset.eta_seconds is None


# --- services --------------------------------------------------------------------------


def test_create_asset_sets_layout_and_reserves_quota(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = services.create_asset(
            school=school, actor=owner, filename="../My Lecture (final).MP4", size=5_000_000
        )
        assert asset.status == VideoAsset.Status.UPLOADING
        assert asset.title == "My Lecture (final)"
        assert asset.source_key == (
            f"schools/{school.pk}/videos/{asset.uuid}/source/My_Lecture_final.mp4"
        )
        assert video_selectors.school_video_bytes(school=school) == 5_000_000
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.READY, source_bytes=4_000_000, output_bytes=1_500_000,
            duration_seconds=90,
        )  # fmt: skip
        assert video_selectors.school_video_bytes(school=school) == 5_500_000
        assert video_selectors.school_video_minutes(school=school) == pytest.approx(1.5)


def test_create_asset_refuses_over_plan_limits(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    plan = school.plan
    with school_context(school):
        with pytest.raises(ValidationError, match=r"accepts videos up to 2\.0 GB"):
            services.create_asset(
                school=school, actor=owner, filename="big.mp4", size=plan.max_upload_bytes + 1
            )
        services.create_asset(school=school, actor=owner, filename="a.mp4", size=1_500_000_000)
        with pytest.raises(ValidationError, match="Not enough storage left"):
            services.create_asset(school=school, actor=owner, filename="b.mp4", size=800_000_000)
        with pytest.raises(ValidationError, match="empty"):
            services.create_asset(school=school, actor=owner, filename="c.mp4", size=0)
        assert VideoAsset.objects.filter(school=school).count() == 1


def test_start_processing_rechecks_quota_with_real_size(
    school_a: Any, local_media: Path, plan_limits: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    plan_limits(school.plan, max_storage_bytes=10_000)
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="a.mp4", size=5_000)
        with pytest.raises(ValidationError, match="The upload is not complete"):
            services.start_processing(school=school, asset=asset)
        default_storage.save(asset.source_key, ContentFile(b"x" * 20_000))  # lied about size
        with pytest.raises(ValidationError, match="Not enough storage left"):
            services.start_processing(school=school, asset=asset)
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.FAILED
        assert "Not enough storage left" in asset.error_message


def test_start_processing_enqueues_on_commit(
    school_a: Any, local_media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="a.mp4", size=3)
        default_storage.save(asset.source_key, ContentFile(b"abc"))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.start_processing(school=school, asset=asset)
        assert not _enqueued(asset)
        for callback in callbacks:
            callback()
        asset.refresh_from_db()
    assert asset.status == VideoAsset.Status.QUEUED and asset.source_bytes == 3
    [job] = _enqueued(asset)
    assert job.queue_name == "video"
    with school_context(school):
        services.start_processing(school=school, asset=asset)  # again: no second job
    assert len(_enqueued(asset)) == 1


def test_services_refuse_other_schools_and_students(
    school_a: Any, school_b: Any, make_user: Any, local_media: Path
) -> None:
    with school_context(school_a.school):
        asset = services.create_asset(
            school=school_a.school, actor=school_a.owner, filename="a.mp4", size=10
        )
    with school_context(school_b.school):
        with pytest.raises(PermissionDenied):
            services.create_asset(
                school=school_b.school, actor=school_a.owner, filename="x.mp4", size=10
            )
        # Another school's video is "not found", never "forbidden".
        with pytest.raises(Http404):
            services.delete_asset(school=school_b.school, actor=school_b.owner, asset=asset)
        with pytest.raises(Http404):
            services.start_processing(school=school_b.school, asset=asset)
    student = make_user(school_a.school, "s@alpha.test")
    with school_context(school_a.school), pytest.raises(PermissionDenied):
        services.delete_asset(school=school_a.school, actor=student, asset=asset)
    # a job carrying the wrong school id touches nothing
    assert run_transcode_job(school_id=school_b.school.pk, asset_id=asset.pk) == "skipped"
    with school_context(school_a.school):
        assert VideoAsset.objects.filter(pk=asset.pk).exists()


def test_attach_video_to_lesson(school_a: Any, school_b: Any) -> None:
    from courseplatform.courses import services as courses

    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = courses.create_course(school=school, actor=owner, title="C")
        section = courses.add_section(school=school, actor=owner, course=course, title="S")
        lesson = courses.add_lesson(school=school, actor=owner, section=section, title="L")
        asset = services.create_asset(school=school, actor=owner, filename="a.mp4", size=10)
        VideoAsset.objects.filter(pk=asset.pk).update(duration_seconds=150)
        asset.refresh_from_db()
        services.attach_video_to_lesson(school=school, actor=owner, lesson=lesson, asset=asset)
        lesson.refresh_from_db()
        assert lesson.video_id == asset.pk and lesson.kind == "video"
        assert lesson.duration_minutes == 2
        services.attach_video_to_lesson(school=school, actor=owner, lesson=lesson, asset=None)
        lesson.refresh_from_db()
        assert lesson.video_id is None
    with school_context(school_b.school):
        other = services.create_asset(
            school=school_b.school, actor=school_b.owner, filename="b.mp4", size=10
        )
    with school_context(school), pytest.raises(Http404):
        services.attach_video_to_lesson(school=school, actor=owner, lesson=lesson, asset=other)
