"""Find the schools with drip sections that opened for someone not told yet, and
enqueue ``tasks.send_unlock_notices`` for each (``manage.py send_unlock_emails``, run
every ``PERIODIC_INTERVAL_SECONDS`` by ``scripts/serve.py``).

The cross-school scan is read-only, inside ``platform_bypass(audit=False)`` as the
other periodic scans; the sending happens in the task worker, each school in its own
context. Running it twice, or while a previous run's tasks are still going, sends
nothing twice: the task inserts a unique marker per student and section first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from courseplatform.tenancy.rls import platform_bypass

from . import selectors, services, tasks

SCAN_REASON = "drip schedules: periodic scan for sections that opened"


def schools_due(*, now: datetime) -> list[int]:
    window = timedelta(hours=settings.DRIP_EMAIL_WINDOW_HOURS)
    with platform_bypass(actor=None, reason=SCAN_REASON, audit=False):
        return selectors.schools_with_due_unlocks(now=now, window=window)


def enqueue_unlock_emails(*, now: datetime | None = None) -> list[int]:
    """Enqueue one unlock-notice task per school with someone to tell; their ids."""
    due = schools_due(now=now or timezone.now())
    for school_id in due:
        tasks.send_unlock_notices.enqueue(school_id)
    return due


RESUME_REASON = "announcements: periodic scan for batches a stopped worker left behind"


def stalled_announcements(*, now: datetime) -> list[tuple[int, int]]:
    """(school id, announcement id) of every announcement with emails still to send
    and nothing of it claimed for ``STALLED_BATCH_MINUTES`` (or three batch pauses,
    if longer): its chain of batches stopped. One query for the whole platform."""
    quiet_for = max(
        timedelta(minutes=settings.STALLED_BATCH_MINUTES),
        timedelta(seconds=3 * tasks.batch_delay_seconds()),
    )
    with platform_bypass(actor=None, reason=RESUME_REASON, audit=False):
        return selectors.stalled_announcements(since=now - quiet_for)


def resume_stalled_announcements(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Put the rows a stopped batch left in "sending" back to "waiting" and enqueue the
    next batch, for every stalled announcement. At least once: the one email that was
    going out when the worker died may go twice; the rest of the batch would otherwise
    never go."""
    stalled = stalled_announcements(now=now or timezone.now())
    for school_id, announcement_id in stalled:
        services.release_claimed_deliveries(school_id=school_id, announcement_id=announcement_id)
        tasks.enqueue_announcement_batch(school_id=school_id, announcement_id=announcement_id)
    return stalled
