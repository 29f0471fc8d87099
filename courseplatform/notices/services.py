"""Writes of the notices app: announcements, opt-outs (unsubscribe / resubscribe).

Sending is the task worker's (tasks.py); a new announcement enqueues its first batch
once its rows have committed.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course, Enrollment
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sanitize.markdown import external_image_problem, markdown_to_html
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from . import tasks
from .models import BODY_MAX, TITLE_MAX, Announcement, AnnouncementDelivery, EmailPreference
from .unsubscribe import UnsubscribeError, read_token

logger = logging.getLogger(__name__)


def create_announcement(
    *, school: School, actor: User, course: Course, title: str, body_md: str
) -> Announcement:
    """Post an announcement to the course's students and queue its emails (course
    managers only; audited). The Markdown is rendered and sanitised by the shared
    helper; every enrolled student gets one delivery row."""
    permissions.require_course_manager(school, actor, course)
    title = (title or "").strip()
    body_md = (body_md or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = gettext("Give the announcement a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = gettext("At most %(maximum)s characters.") % {
            "maximum": number_format(TITLE_MAX, force_grouping=True)
        }
    else:
        try:
            validate_single_line(title)
        except ValidationError as exc:
            errors["title"] = exc.messages[0]
    if not body_md:
        errors["body_md"] = gettext("Write the announcement.")
    elif len(body_md) > BODY_MAX:
        errors["body_md"] = gettext("At most %(maximum)s characters.") % {
            "maximum": number_format(BODY_MAX, force_grouping=True)
        }
    elif problem := external_image_problem(body_md):
        errors["body_md"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        announcement = Announcement.objects.create(
            school=school,
            course=course,
            author=actor,
            title=title,
            body_md=body_md,
            body_html=markdown_to_html(body_md),
        )
        students = Enrollment.objects.filter(school=school, course=course).values_list(
            "student_id", flat=True
        )
        AnnouncementDelivery.objects.bulk_create(
            AnnouncementDelivery(school=school, announcement=announcement, student_id=student_id)
            for student_id in students
        )
        record_audit(
            school=school,
            actor=actor,
            action="course.announcement_posted",
            target=announcement,
            data={"course": course.pk, "title": title},
        )
        tasks.enqueue_announcement_batch(school_id=school.pk, announcement_id=announcement.pk)
    return announcement


def _set_subscribed(*, school: School, user: User, subscribed: bool) -> EmailPreference:
    pref, _ = EmailPreference.objects.select_for_update().get_or_create(school=school, user=user)
    pref.unsubscribed_at = None if subscribed else timezone.now()
    pref.token_version += 1  # every link sent before this change stops working
    pref.save(update_fields=["unsubscribed_at", "token_version", "updated_at"])
    record_audit(
        school=school,
        actor=user,
        action="email.resubscribed" if subscribed else "email.unsubscribed",
        target=user,
    )
    return pref


def unsubscribe(*, school: School, token: str) -> User:
    """Honour an unsubscribe link: the student gets no more course emails from this
    school (announcements, unlock notices). Forged, other-school and already-used
    links raise ``UnsubscribeError`` and change nothing."""
    parsed = read_token(school=school, token=token)
    with transaction.atomic():
        user = User.objects.filter(school=school, pk=parsed.user_id).first()
        if user is None:
            raise UnsubscribeError(gettext("This unsubscribe link is not valid for this school."))
        pref = EmailPreference.objects.select_for_update().filter(school=school, user=user).first()
        if (pref.token_version if pref else 0) != parsed.version:
            raise UnsubscribeError(
                gettext("This unsubscribe link has already been used. You are unsubscribed.")
                if pref and pref.unsubscribed_at
                else gettext(
                    "This unsubscribe link has already been used. You chose to receive "
                    "emails again since; use the link in a newer email."
                )
            )
        _set_subscribed(school=school, user=user, subscribed=False)
    return user


def set_course_emails(*, school: School, user: User, subscribed: bool) -> EmailPreference:
    """The signed-in student's own switch (My courses)."""
    permissions.require_in_school(school, user)
    with transaction.atomic():
        return _set_subscribed(school=school, user=user, subscribed=subscribed)


def release_claimed_deliveries(*, school_id: int, announcement_id: int) -> int:
    """Put the rows of an announcement that a batch claimed but never finished (its
    worker stopped) back to waiting, so the next batch sends them; how many."""
    with school_context(school_id):
        released = AnnouncementDelivery.objects.filter(
            school_id=school_id,
            announcement_id=announcement_id,
            status=AnnouncementDelivery.Status.SENDING,
        ).update(status=AnnouncementDelivery.Status.PENDING, claimed_at=None)
    logger.warning(
        "announcement %s of school %s resumed: %s email(s) back to waiting",
        announcement_id,
        school_id,
        released,
    )
    return released
