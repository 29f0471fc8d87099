"""Sending the school's course emails in the task worker (``manage.py db_worker``).

* ``send_announcement_batch(school_id, announcement_id)``: claims the next
  ``ANNOUNCEMENT_EMAIL_BATCH_SIZE`` waiting deliveries (``SKIP LOCKED``, so two workers
  never send the same one), emails each through ``accounts.services.send_school_email``
  and records sent / failed (with the error) / skipped (unsubscribed) per recipient: one
  refused address never stops the rest. While some wait, the next batch is enqueued
  with ``run_after`` so that no more than ``ANNOUNCEMENT_EMAILS_PER_MINUTE`` go out.
* ``send_unlock_notices(school_id)``: for every drip section that opened for a
  student who has not been told (selectors.due_unlocks), inserts the unique
  sent-marker first and emails only when that insert won: exactly one email per
  student and section however often, and however concurrently, it runs.

Both re-enter the school's context (runtime role, row-level security) first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext

from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.courses.models import Section
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url

from . import selectors
from .models import Announcement, AnnouncementDelivery, EmailPreference, UnlockNotice
from .unsubscribe import make_token

logger = logging.getLogger(__name__)

ERROR_MAX = 500


def unsubscribe_url(*, school: School, user_id: int, pref: EmailPreference | None) -> str:
    token = make_token(school=school, user_id=user_id, version=pref.token_version if pref else 0)
    return school_url(school, f"/email/unsubscribe/{token}/")


def batch_delay_seconds() -> float:
    """The pause between two batches that keeps to the configured rate."""
    return settings.ANNOUNCEMENT_EMAIL_BATCH_SIZE * 60 / settings.ANNOUNCEMENT_EMAILS_PER_MINUTE


def enqueue_announcement_batch(
    *, school_id: int, announcement_id: int, run_after: datetime | None = None
) -> None:
    """Enqueue the next batch once the current transaction commits."""

    def _enqueue() -> None:
        job = send_announcement_batch
        if run_after is not None:
            job = job.using(run_after=run_after)
        job.enqueue(school_id, announcement_id)

    transaction.on_commit(_enqueue)


@task()
def send_announcement_batch(school_id: int, announcement_id: int) -> dict[str, int]:
    return run_announcement_batch(school_id=school_id, announcement_id=announcement_id)


def _claim(announcement: Announcement, size: int) -> list[AnnouncementDelivery]:
    with transaction.atomic():
        batch = list(
            AnnouncementDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                school_id=announcement.school_id,
                announcement=announcement,
                status=AnnouncementDelivery.Status.PENDING,
            )
            .order_by("id")[:size]
        )
        AnnouncementDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(
            status=AnnouncementDelivery.Status.SENDING, claimed_at=timezone.now()
        )
    return batch


def run_announcement_batch(*, school_id: int, announcement_id: int) -> dict[str, int]:
    outcome = {"sent": 0, "failed": 0, "skipped": 0, "waiting": 0}
    with school_context(school_id):
        school = School.objects.get(pk=school_id)
        announcement = (
            Announcement.objects.select_related("course")
            .filter(school_id=school_id, pk=announcement_id)
            .first()
        )
        if announcement is None:
            return outcome
        batch = _claim(announcement, settings.ANNOUNCEMENT_EMAIL_BATCH_SIZE)
        users = User.objects.filter(school=school).in_bulk([d.student_id for d in batch])
        prefs = selectors.preferences(school=school, user_ids=users)
        course_url = school_url(school, f"/courses/{announcement.course.slug}/")
        for delivery in batch:
            status, error = _deliver(
                school, announcement, users.get(delivery.student_id), prefs, course_url
            )
            AnnouncementDelivery.objects.filter(pk=delivery.pk).update(
                status=status, error=error[:ERROR_MAX], sent_at=timezone.now()
            )
            outcome[str(status)] += 1
        outcome["waiting"] = AnnouncementDelivery.objects.filter(
            school_id=school_id,
            announcement=announcement,
            status=AnnouncementDelivery.Status.PENDING,
        ).count()
        if outcome["waiting"]:
            enqueue_announcement_batch(
                school_id=school_id,
                announcement_id=announcement_id,
                run_after=timezone.now() + timedelta(seconds=batch_delay_seconds()),
            )
    logger.info("announcement %s batch: %s", announcement_id, outcome)
    return outcome


def _deliver(
    school: School,
    announcement: Announcement,
    user: User | None,
    prefs: dict[int, EmailPreference],
    course_url: str,
) -> tuple[str, str]:
    status = AnnouncementDelivery.Status
    if user is None or not user.is_active:
        return status.SKIPPED, "No active account."
    pref = prefs.get(user.pk)
    if pref is not None and pref.unsubscribed_at is not None:
        return status.SKIPPED, ""
    try:
        send_school_email(
            school=school,
            user=user,
            subject=f"{announcement.course.title}: {announcement.title}",
            template="notices/email/announcement",
            context={
                "announcement": announcement,
                "course": announcement.course,
                "course_url": course_url,
                "unsubscribe_url": unsubscribe_url(school=school, user_id=user.pk, pref=pref),
            },
        )
    except Exception as exc:
        logger.warning("announcement %s to user %s failed: %s", announcement.pk, user.pk, exc)
        return status.FAILED, f"{type(exc).__name__}: {exc}"
    return status.SENT, ""


# --- drip unlock emails -------------------------------------------------------------------


@task()
def send_unlock_notices(school_id: int) -> dict[str, int]:
    return run_unlock_notices(school_id=school_id)


def _mark(school: School, section: Section, student_id: int, status: str) -> bool:
    """Insert the marker; False when another run already did (the email is theirs)."""
    try:
        with transaction.atomic():
            UnlockNotice.objects.create(
                school=school, section=section, student_id=student_id, status=status
            )
    except IntegrityError:
        return False
    return True


def run_unlock_notices(*, school_id: int, now: datetime | None = None) -> dict[str, int]:
    """Tell students about the drip sections that opened for them (see module doc)."""
    now = now or timezone.now()
    window = timedelta(hours=settings.DRIP_EMAIL_WINDOW_HOURS)
    outcome = {"sent": 0, "failed": 0, "skipped": 0}
    with school_context(school_id):
        school = School.objects.get(pk=school_id)
        due = selectors.due_unlocks(school=school, now=now, window=window)
        if not due:
            return outcome
        users = User.objects.filter(school=school).in_bulk({item.student_id for item in due})
        prefs = selectors.preferences(school=school, user_ids=users)
        # One email per student and course, listing the sections that opened.
        grouped: dict[tuple[int, int], list[Section]] = defaultdict(list)
        for item in due:
            grouped[(item.student_id, item.section.course_id)].append(item.section)
        for (student_id, _), sections in grouped.items():
            user = users.get(student_id)
            pref = prefs.get(student_id)
            quiet = user is None or not user.is_active or (pref and pref.unsubscribed_at)
            status = UnlockNotice.Status.SKIPPED if quiet else UnlockNotice.Status.SENT
            won = [s for s in sections if _mark(school, s, student_id, status)]
            if not won:
                continue
            if quiet:
                outcome["skipped"] += len(won)
                continue
            assert user is not None
            error = _send_unlock(school, user, won, pref)
            if error:
                UnlockNotice.objects.filter(
                    school=school, student_id=student_id, section__in=won
                ).update(status=UnlockNotice.Status.FAILED, error=error[:ERROR_MAX])
                outcome["failed"] += len(won)
            else:
                outcome["sent"] += len(won)
    return outcome


def _unlock_subject(course_title: str, section_titles: list[str]) -> str:
    quoted = [gettext("“%(title)s”") % {"title": title} for title in section_titles]
    return gettext("Now open in %(course)s: %(sections)s") % {
        "course": course_title,
        "sections": pgettext("list separator", ", ").join(quoted),
    }


# Lazy: send_school_email turns it into text in the student's language.
unlock_subject = lazy(_unlock_subject, str)


def _send_unlock(
    school: School, user: User, sections: list[Section], pref: EmailPreference | None
) -> str:
    course = sections[0].course
    context: dict[str, Any] = {
        "course": course,
        "sections": sections,
        "course_url": school_url(school, f"/courses/{course.slug}/"),
        "unsubscribe_url": unsubscribe_url(school=school, user_id=user.pk, pref=pref),
    }
    try:
        send_school_email(
            school=school,
            user=user,
            subject=unlock_subject(course.title, [section.title for section in sections]),
            template="notices/email/unlocked",
            context=context,
        )
    except Exception as exc:
        logger.warning("unlock email to user %s failed: %s", user.pk, exc)
        return f"{type(exc).__name__}: {exc}"
    return ""
