"""Background jobs for videos (queue ``video``).

``transcode_video(school_id, asset_id)`` is enqueued by ``services.start_processing``
(on commit). It re-enters the school's context, *claims* the asset (QUEUED →
PROCESSING, ``attempts`` + 1, ``started_at`` = the claim token) and runs
``pipeline.process_asset``. Outcomes:

* READY — done.
* permanent failure (not a video, over the plan, undecodable) → FAILED at once with
  the instructor-facing reason in ``error_message``.
* transient failure (storage/database error, ffmpeg killed by a signal, disk full…)
  → back to QUEUED and enqueued again after a backoff
  (``VIDEO_RETRY_BACKOFF_SECONDS`` x 2^(attempt-1), capped at 15 min) until
  ``VIDEO_MAX_ATTEMPTS`` (default 3) attempts, then FAILED with the last reason.
* cancelled (asset deleted, or reclaimed by the watchdog while this run hung) →
  stop; if the asset is gone, its files are removed again.

A worker that dies mid-job stops writing ``heartbeat_at``; ``reclaim_stalled_videos``
(run every minute by ``scripts/serve.py``; also ``manage.py reclaim_stalled_videos``)
puts assets whose heartbeat is older than ``VIDEO_HEARTBEAT_TIMEOUT_SECONDS``
(default 300) back in the queue, or fails them once they used up their attempts. Its
cross-school scan is read-only; one audit entry (``platform.rls_bypass``, listing the
reclaimed videos) is written only by a run that re-queued or failed something.
Re-running is idempotent: a run first removes the previous run's renditions and files.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet
from django.tasks import task
from django.utils import timezone

from courseplatform.ops.events import emit_event
from courseplatform.ops.services import record_audit
from courseplatform.telemetry import metrics
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context

from .models import VideoAsset
from .probe import ProbeError
from .selectors import video_event_ref
from .storage import delete_storage_prefix

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 15 * 60
WATCHDOG_REASON = "video watchdog: reclaim stalled transcodes"


def enqueue_transcode(*, school: School, asset: VideoAsset, delay_seconds: float = 0) -> None:
    """Enqueue the transcode task once the current transaction commits."""
    school_id, asset_id = school.pk, asset.pk

    def _enqueue() -> None:
        task = transcode_video
        if delay_seconds > 0:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
        task.enqueue(school_id, asset_id)

    transaction.on_commit(_enqueue)


def mark_failed(*, school: School, asset: VideoAsset, message: str) -> None:
    """Record a final failure with a message the instructor can act on."""
    VideoAsset.objects.filter(school=school, pk=asset.pk).update(
        status=VideoAsset.Status.FAILED,
        error_message=message,
        eta_seconds=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    asset.status = VideoAsset.Status.FAILED
    asset.error_message = message
    emit_event(
        school=school, type="video.failed", data={**video_event_ref(asset), "error": message}
    )


def _setting(name: str, default: int) -> int:
    from .pipeline import video_setting

    return int(video_setting(name, default))


def max_attempts() -> int:
    return _setting("VIDEO_MAX_ATTEMPTS", 3)


def backoff_seconds(attempt: int) -> float:
    base = _setting("VIDEO_RETRY_BACKOFF_SECONDS", 30)
    return float(min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempt - 1)))


def heartbeat_timeout_seconds() -> int:
    return _setting("VIDEO_HEARTBEAT_TIMEOUT_SECONDS", 300)


@task(queue_name="video")
def transcode_video(school_id: int, asset_id: int) -> str:
    """Probe and transcode one asset; returns the outcome (ready/failed/retrying/…)."""
    return run_transcode_job(school_id=school_id, asset_id=asset_id)


def claim_asset(*, school: School, asset_id: int) -> VideoAsset | None:
    """QUEUED → PROCESSING for this run; None if the asset is gone or not queued."""
    now = timezone.now()
    claimed = VideoAsset.objects.filter(
        school=school, pk=asset_id, status=VideoAsset.Status.QUEUED
    ).update(
        status=VideoAsset.Status.PROCESSING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress_percent=0,
        eta_seconds=None,
        error_message="",
        updated_at=now,
    )
    if not claimed:
        return None
    return VideoAsset.objects.get(school=school, pk=asset_id)


def _owned(school: School, asset: VideoAsset, token: datetime | None) -> QuerySet[VideoAsset]:
    return VideoAsset.objects.filter(
        school=school, pk=asset.pk, status=VideoAsset.Status.PROCESSING, started_at=token
    )


def run_transcode_job(*, school_id: int, asset_id: int) -> str:
    from . import pipeline

    with school_context(school_id):
        school = School.objects.select_related("plan").filter(pk=school_id).first()
        if school is None:
            return "gone"
        asset = claim_asset(school=school, asset_id=asset_id)
        if asset is None:
            logger.info("video %s: not queued (deleted or already handled)", asset_id)
            return "skipped"
        token = asset.started_at
        assert token is not None
        claim = pipeline.Claim(school=school, asset_id=asset.pk, token=token)
        started = time.monotonic()
        try:
            done = pipeline.process_asset(school=school, asset=asset, claim=claim)
            _record_transcode(seconds=time.monotonic() - started, asset=done)
            logger.info("video %s: ready", asset_id)
            return "ready"
        except pipeline.Cancelled:
            if not VideoAsset.objects.filter(school=school, pk=asset_id).exists():
                # Deleted while we worked: remove whatever we uploaded meanwhile.
                delete_storage_prefix(asset.storage_prefix)
            logger.info("video %s: cancelled", asset_id)
            return "cancelled"
        except (ProbeError, pipeline.TranscodeError) as exc:
            if _owned(school, asset, token).exists():
                mark_failed(school=school, asset=asset, message=str(exc))
            metrics.TRANSCODE_FAILURES.labels("permanent").inc()
            logger.info("video %s: failed: %s", asset_id, exc)
            return "failed"
        except Exception as exc:  # transient (storage, DB, killed ffmpeg, bugs): retry
            logger.exception("video %s: attempt %s failed", asset_id, asset.attempts)
            return _retry_or_fail(school=school, asset=asset, token=token, exc=exc)


def _record_transcode(*, seconds: float, asset: VideoAsset) -> None:
    metrics.TRANSCODE_SECONDS.observe(seconds)
    if asset.duration_seconds and seconds > 0:
        metrics.TRANSCODE_REALTIME_FACTOR.observe(asset.duration_seconds / seconds)


def _reason(exc: BaseException) -> str:
    from . import pipeline

    if isinstance(exc, pipeline.TransientError):
        return str(exc)
    if isinstance(exc, OSError | DatabaseError):
        return f"a temporary storage problem ({type(exc).__name__})"
    return f"an unexpected error ({type(exc).__name__})"


def _retry_or_fail(*, school: School, asset: VideoAsset, token: datetime, exc: Exception) -> str:
    reason = _reason(exc)
    with transaction.atomic():
        rows = _owned(school, asset, token)
        if not rows.exists():
            return "cancelled"
        if asset.attempts < max_attempts():
            rows.update(
                status=VideoAsset.Status.QUEUED,
                heartbeat_at=None,
                eta_seconds=None,
                updated_at=timezone.now(),
            )
            enqueue_transcode(
                school=school, asset=asset, delay_seconds=backoff_seconds(asset.attempts)
            )
            metrics.TRANSCODE_FAILURES.labels("retrying").inc()
            logger.warning(
                "video %s: retrying (attempt %s/%s) after %s",
                asset.pk,
                asset.attempts,
                max_attempts(),
                reason,
            )
            return "retrying"
        metrics.TRANSCODE_FAILURES.labels("exhausted").inc()
        mark_failed(
            school=school,
            asset=asset,
            message=(
                f"Processing failed {asset.attempts} times, most recently because of {reason}. "
                "Try again later with “Process again”; if it keeps failing, contact support."
            ),
        )
        return "failed"


def reclaim_stalled_videos(*, timeout_seconds: int | None = None) -> list[tuple[int, int, str]]:
    """Re-queue (or fail) PROCESSING assets whose heartbeat stopped, across all schools.

    Returns ``[(school_id, asset_id, "requeued"|"failed"), ...]``.
    """
    timeout = heartbeat_timeout_seconds() if timeout_seconds is None else timeout_seconds
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale_q = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    # Read-only, every minute: the audit entry is written below, only when the scan
    # led to a change.
    with platform_bypass(actor=None, reason=WATCHDOG_REASON, audit=False):
        stale = list(
            VideoAsset.objects.filter(stale_q, status=VideoAsset.Status.PROCESSING).values_list(
                "school_id", "pk"
            )
        )
    results: list[tuple[int, int, str]] = []
    for school_id, asset_id in stale:
        with school_context(school_id), transaction.atomic():
            school = School.objects.select_related("plan").get(pk=school_id)
            asset = (
                VideoAsset.objects.select_for_update()
                .filter(stale_q, school=school, pk=asset_id, status=VideoAsset.Status.PROCESSING)
                .first()
            )
            if asset is None:
                continue
            if asset.attempts >= max_attempts():
                mark_failed(
                    school=school,
                    asset=asset,
                    message=(
                        f"Processing stopped responding {asset.attempts} times (the worker "
                        "died or was restarted). Try again later with “Process again”; if it "
                        "keeps failing, contact support."
                    ),
                )
                results.append((school_id, asset_id, "failed"))
            else:
                VideoAsset.objects.filter(pk=asset.pk).update(
                    status=VideoAsset.Status.QUEUED,
                    heartbeat_at=None,
                    eta_seconds=None,
                    updated_at=timezone.now(),
                )
                enqueue_transcode(school=school, asset=asset)
                results.append((school_id, asset_id, "requeued"))
            logger.warning("video %s (school %s): reclaimed stalled job", asset_id, school_id)
    if results:
        record_audit(
            school=None,
            actor=None,
            action="platform.rls_bypass",
            data={
                "reason": WATCHDOG_REASON,
                "reclaimed": [
                    {"school": school_id, "video": asset_id, "outcome": outcome}
                    for school_id, asset_id, outcome in results
                ],
            },
        )
    return results
