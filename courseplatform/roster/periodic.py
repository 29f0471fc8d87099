"""Resume bulk imports whose chain of batches stopped (``manage.py resume_imports``,
run every ``PERIODIC_INTERVAL_SECONDS`` by ``scripts/serve.py``).

A worker that dies in the middle of a batch leaves that batch's rows "applying" and
enqueues no next batch, so the import would never finish. The scan is one read-only
query for the whole platform, inside ``platform_bypass(audit=False)`` like the other
periodic scans; the rows are put back and the next batch enqueued in each school's own
context.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from courseplatform.tenancy.rls import platform_bypass

from . import selectors, services, tasks

RESUME_REASON = "bulk imports: periodic scan for batches a stopped worker left behind"


def resume_stalled_imports(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Resume every import with rows still to apply and nothing taken for
    ``STALLED_BATCH_MINUTES``; their (school id, import id)."""
    since = (now or timezone.now()) - timedelta(minutes=settings.STALLED_BATCH_MINUTES)
    with platform_bypass(actor=None, reason=RESUME_REASON, audit=False):
        stalled = selectors.stalled_imports(since=since)
    for school_id, import_id in stalled:
        services.release_claimed_rows(school_id=school_id, import_id=import_id)
        tasks.enqueue_import_batch(school_id=school_id, import_id=import_id)
    return stalled
