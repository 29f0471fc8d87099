"""Background job: refresh one school's analytics rollups (queue ``default``)."""

from __future__ import annotations

import structlog
from django.core.cache import cache
from django.db import transaction
from django.tasks import task

from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from .rollups import refresh_school

log = structlog.get_logger(__name__)

# While a refresh is queued, asking again enqueues nothing (the page's button, first visits).
PENDING_SECONDS = 120


def _pending_key(school_id: int) -> str:
    return f"analytics:refresh-pending:{school_id}"


def request_refresh(*, school: School) -> bool:
    """Enqueue a refresh after commit unless one is pending; whether one was enqueued."""
    if not cache.add(_pending_key(school.pk), 1, timeout=PENDING_SECONDS):
        return False
    school_id = school.pk
    transaction.on_commit(lambda: refresh_school_analytics.enqueue(school_id))
    return True


@task()
def refresh_school_analytics(school_id: int) -> str:
    with school_context(school_id):
        school = School.objects.filter(pk=school_id).first()
        if school is None:
            return "gone"
        result = refresh_school(school=school)
    cache.delete(_pending_key(school_id))
    log.info(
        "analytics.refreshed",
        courses=result.courses,
        lessons=result.lessons,
        seconds=round(result.seconds, 3),
    )
    return f"{result.courses} courses, {result.lessons} lessons in {result.seconds:.2f}s"
