"""Reads of the notices app: announcements for a course or a student, delivery
progress, opt-outs, and the drip sections that opened for someone not told yet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from courseplatform.accounts.models import User
from courseplatform.courses import drip
from courseplatform.courses.models import Course, Enrollment, Section
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import school_zone

from .models import Announcement, AnnouncementDelivery, EmailPreference, UnlockNotice

RECENT = 5


def course_announcements(
    *, school: School, course: Course, limit: int = RECENT
) -> list[Announcement]:
    return list(
        Announcement.objects.filter(school=school, course=course).order_by("-created_at", "-id")[
            :limit
        ]
    )


def student_announcements(
    *, school: School, student: User, limit: int = RECENT
) -> list[Announcement]:
    """The latest announcements of the courses ``student`` is enrolled in (one query)."""
    courses = Enrollment.objects.filter(school=school, student=student).values("course_id")
    return list(
        Announcement.objects.filter(school=school, course_id__in=courses)
        .select_related("course")
        .order_by("-created_at", "-id")[:limit]
    )


def get_announcement(*, school: School, course: Course, announcement_id: int) -> Announcement:
    """The course's announcement; 404 alike for a missing id and another school's or
    another course's."""
    found = Announcement.objects.filter(school=school, course=course, pk=announcement_id).first()
    if found is None:
        raise Http404("No such announcement.")
    return found


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    skipped: int
    waiting: int

    @property
    def done(self) -> bool:
        return self.waiting == 0

    @property
    def percent(self) -> int:
        finished = self.total - self.waiting
        return round(100 * finished / self.total) if self.total else 100


def delivery_progress(*, announcement: Announcement) -> Progress:
    """Counts of the announcement's emails by outcome (one query)."""
    status = AnnouncementDelivery.Status
    counts = AnnouncementDelivery.objects.filter(
        school_id=announcement.school_id, announcement=announcement
    ).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status=status.SENT)),
        failed=Count("id", filter=Q(status=status.FAILED)),
        skipped=Count("id", filter=Q(status=status.SKIPPED)),
        waiting=Count("id", filter=Q(status__in=[status.PENDING, status.SENDING])),
    )
    return Progress(**counts)


def failed_deliveries(*, announcement: Announcement, limit: int = 20) -> list[AnnouncementDelivery]:
    return list(
        AnnouncementDelivery.objects.filter(
            school_id=announcement.school_id,
            announcement=announcement,
            status=AnnouncementDelivery.Status.FAILED,
        )
        .select_related("student")
        .order_by("id")[:limit]
    )


def preferences(*, school: School, user_ids: Iterable[int]) -> dict[int, EmailPreference]:
    return {
        pref.user_id: pref
        for pref in EmailPreference.objects.filter(school=school, user_id__in=list(user_ids))
    }


def is_unsubscribed(*, school: School, user: User) -> bool:
    return EmailPreference.objects.filter(
        school=school, user=user, unsubscribed_at__isnull=False
    ).exists()


# --- drip unlocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueUnlock:
    section: Section
    student_id: int


def _drip_sections(school: School) -> QuerySet[Section]:
    return (
        Section.objects.filter(school=school, course__status=Course.Status.PUBLISHED)
        .exclude(release=Section.Release.IMMEDIATELY)
        .select_related("course")
        .order_by("course_id", "position", "id")
    )


def due_unlocks(*, school: School, now: datetime, window: timedelta) -> list[DueUnlock]:
    """Every (section, student) whose drip section opened in ``(now - window, now]``
    after the student had enrolled, and who has no unlock notice for it yet.

    A days rule opens at the start of day ``enrolment day + N``: it opened in the
    window for exactly the enrolments made in ``[start of (day(since) - N + 1),
    start of (day(now) - N + 1))`` (drip.days_cutoff). One query per drip section.
    """
    zone = school_zone(school)
    since = now - window
    due: list[DueUnlock] = []
    for section in _drip_sections(school):
        enrolments = Enrollment.objects.filter(school=school, course_id=section.course_id)
        if section.release == Section.Release.DATE and section.release_date is not None:
            opens = drip.start_of_day(section.release_date, zone)
            if not since < opens <= now:
                continue
            enrolments = enrolments.filter(created_at__lt=opens)
        elif section.release == Section.Release.DAYS and section.release_days:
            days = section.release_days
            enrolments = enrolments.filter(
                created_at__gte=drip.days_cutoff(days, now=since, zone=zone),
                created_at__lt=drip.days_cutoff(days, now=now, zone=zone),
            )
        else:
            continue
        told = UnlockNotice.objects.filter(school=school, section=section).values("student_id")
        for student_id in enrolments.exclude(student_id__in=told).values_list(
            "student_id", flat=True
        ):
            due.append(DueUnlock(section, student_id))
    return due


def schools_with_due_unlocks(*, now: datetime, window: timedelta) -> list[int]:
    """Ids of the active schools where ``due_unlocks`` would find someone: one query
    for the whole platform (the caller is inside ``platform_bypass``), so the
    every-minute scan costs the same for ten schools as for ten thousand.

    The same rule as ``due_unlocks``, in SQL: a local midnight is
    ``(local date)::timestamp AT TIME ZONE school.time_zone``, which PostgreSQL
    resolves DST-aware like ``drip.start_of_day``. A school it names and the task then
    finds nothing for only costs an empty task; the tests hold the two equal.
    """
    query = """
        SELECT DISTINCT sec.school_id
        FROM courses_section sec
        JOIN courses_course c ON c.id = sec.course_id AND c.status = %(published)s
        JOIN tenancy_school sch ON sch.id = sec.school_id AND sch.status = %(active)s
        JOIN courses_enrollment e ON e.course_id = sec.course_id AND e.school_id = sec.school_id
        CROSS JOIN LATERAL (
            SELECT
                (sec.release_date::timestamp AT TIME ZONE sch.time_zone) AS opens,
                (((%(since)s::timestamptz AT TIME ZONE sch.time_zone)::date
                  - sec.release_days + 1)::timestamp AT TIME ZONE sch.time_zone) AS from_cut,
                (((%(now)s::timestamptz AT TIME ZONE sch.time_zone)::date
                  - sec.release_days + 1)::timestamp AT TIME ZONE sch.time_zone) AS to_cut
        ) w
        WHERE (
            (sec.release = %(date)s AND w.opens > %(since)s AND w.opens <= %(now)s
             AND e.created_at < w.opens)
            OR (sec.release = %(days)s AND sec.release_days > 0
                AND e.created_at >= w.from_cut AND e.created_at < w.to_cut)
        )
        AND NOT EXISTS (
            SELECT 1 FROM notices_unlocknotice n
            WHERE n.section_id = sec.id AND n.student_id = e.student_id
        )
        ORDER BY sec.school_id
    """
    params: dict[str, str | datetime] = {
        "published": str(Course.Status.PUBLISHED),
        "active": str(School.Status.ACTIVE),
        "date": str(Section.Release.DATE),
        "days": str(Section.Release.DAYS),
        "since": now - window,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [school_id for (school_id,) in cursor.fetchall()]


def stalled_announcements(*, since: datetime) -> list[tuple[int, int]]:
    """Announcements (any school: the caller is inside ``platform_bypass``) created
    before ``since`` with rows waiting or sending and none claimed since ``since``."""
    open_rows = AnnouncementDelivery.objects.filter(
        announcement=OuterRef("pk"),
        status__in=[AnnouncementDelivery.Status.PENDING, AnnouncementDelivery.Status.SENDING],
    )
    recent = AnnouncementDelivery.objects.filter(announcement=OuterRef("pk"), claimed_at__gte=since)
    return list(
        Announcement.objects.filter(created_at__lt=since)
        .filter(Exists(open_rows))
        .exclude(Exists(recent))
        .order_by("school_id", "pk")
        .values_list("school_id", "pk")
    )
