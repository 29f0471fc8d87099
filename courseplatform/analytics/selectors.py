"""Reads behind ``/manage/analytics/``: a fixed number of queries whatever the data size.

Everything is narrowed twice: to the request's school (``school=`` on every query, and
row-level security underneath) and to the person's *scope* — every course of the
school for the owner, the courses they teach for an instructor
(``permissions.manageable_courses``), and for code batches ``manageable_batches``.
A course id from a filter is accepted only when it is in the scope, so another
school's id and an id that never existed get the same answer.

Live aggregates (each one indexed query): enrolments per day, active students,
watch time, redemptions. From the rollups (``models.py``, ``rollups.py``): completion
per course and the per-lesson funnel, with their "as of" time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.access.models import AccessCodeBatch, Redemption
from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course, Enrollment, Lesson
from courseplatform.tenancy.models import School
from courseplatform.video.models import WatchTime

from .models import CourseStat, LessonStat
from .ranges import DateRange

# The redemption chart shows the newest batches; the CSV has the same rows.
MAX_BATCHES = 20


class FilterError(ValueError):
    """A filter value outside the person's scope; ``str(error)`` is for the person."""


@dataclass(frozen=True)
class Scope:
    school: School
    user: User
    courses: dict[int, str]  # id -> title, in title order

    @property
    def course_ids(self) -> list[int]:
        return list(self.courses)

    def course(self, raw: str | None) -> int | None:
        """The course chosen by ``?course=`` (None: no course in scope at all)."""
        if raw in (None, ""):
            return next(iter(self.courses), None)
        if raw.isdigit() and int(raw) in self.courses:
            return int(raw)
        raise FilterError(_("Choose one of your courses from the list."))


def scope_for(*, school: School, user: User) -> Scope:
    courses = permissions.manageable_courses(user, Course.objects.filter(school=school))
    rows = courses.order_by("title", "id").values_list("id", "title")
    return Scope(school, user, dict(rows))


# --- live figures ---------------------------------------------------------------------


def enrolments_over_time(*, scope: Scope, rng: DateRange) -> list[tuple[date, int]]:
    """New enrolments in the scope's courses per day (or week) of the range, zeros included."""
    per_day = (
        Enrollment.objects.filter(
            school=scope.school,
            course_id__in=scope.course_ids,
            created_at__gte=rng.since,
            created_at__lt=rng.until,
        )
        .annotate(day=TruncDate("created_at", tzinfo=rng.zone))  # the school's days
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = dict.fromkeys(rng.buckets(), 0)
    for day, n in per_day:
        counts[rng.bucket_of(day)] += n
    return list(counts.items())


@dataclass(frozen=True)
class CourseActivity:
    course_id: int
    title: str
    enrolled: int
    active_7: int
    active_30: int


@dataclass(frozen=True)
class Activity:
    students: int  # distinct students enrolled in the scope
    active_7: int  # distinct students active in the last 7 days
    active_30: int
    courses: list[CourseActivity]


def activity(*, scope: Scope, now: datetime | None = None) -> Activity:
    """Students active (a lesson opened or completed) in the last 7 and 30 days."""
    now = now or timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    enrolments = Enrollment.objects.filter(school=scope.school, course_id__in=scope.course_ids)
    totals = enrolments.aggregate(
        students=Count("student_id", distinct=True),
        a7=Count("student_id", distinct=True, filter=Q(last_activity_at__gte=week)),
        a30=Count("student_id", distinct=True, filter=Q(last_activity_at__gte=month)),
    )
    per_course: dict[int, dict[str, int]] = {
        course_id: {"n": n, "a7": a7, "a30": a30}
        for course_id, n, a7, a30 in enrolments.values("course_id")
        .annotate(
            n=Count("id"),
            a7=Count("id", filter=Q(last_activity_at__gte=week)),
            a30=Count("id", filter=Q(last_activity_at__gte=month)),
        )
        .values_list("course_id", "n", "a7", "a30")
    }
    courses = []
    for course_id, title in scope.courses.items():
        row = per_course.get(course_id, {})
        courses.append(
            CourseActivity(course_id, title, row.get("n", 0), row.get("a7", 0), row.get("a30", 0))
        )
    return Activity(totals["students"], totals["a7"], totals["a30"], courses)


def watch_time(*, scope: Scope, course_id: int, rng: DateRange) -> dict[int, int]:
    """Seconds watched per lesson of ``course_id`` (in scope) during the range (its rows
    are dated in the school's time zone when they are written, ``video/watchtime.py``)."""
    rows = (
        WatchTime.objects.filter(
            school=scope.school, course_id=course_id, day__gte=rng.start, day__lte=rng.end
        )
        .values("lesson_id")
        .annotate(s=Sum("seconds"))
        .values_list("lesson_id", "s")
    )
    return {lesson_id: int(seconds or 0) for lesson_id, seconds in rows}


@dataclass(frozen=True)
class BatchRow:
    batch_id: int
    name: str
    codes: int
    issued: int  # codes x uses per code
    used: int
    in_range: int  # redemptions during the range

    @property
    def rate(self) -> float:
        return round(100 * self.used / self.issued, 1) if self.issued else 0.0


def redemptions(*, scope: Scope, rng: DateRange) -> list[BatchRow]:
    """The newest ``MAX_BATCHES`` batches the person manages, with their redemption rate."""
    batches = permissions.manageable_batches(
        scope.user, AccessCodeBatch.objects.filter(school=scope.school)
    )
    rows = list(
        batches.annotate(used=Sum("codes__uses_count", default=0))
        .order_by("-created_at", "-id")
        .values_list("id", "name", "code_count", "uses_per_code", "used")[:MAX_BATCHES]
    )
    ids = [row[0] for row in rows]
    in_range = dict(
        Redemption.objects.filter(
            school=scope.school,
            code__batch_id__in=ids,
            created_at__gte=rng.since,
            created_at__lt=rng.until,
        )
        .values("code__batch_id")
        .annotate(n=Count("id"))
        .values_list("code__batch_id", "n")
    )
    return [
        BatchRow(pk, name, codes, codes * uses, int(used or 0), in_range.get(pk, 0))
        for pk, name, codes, uses, used in rows
    ]


# --- from the rollups -----------------------------------------------------------------


@dataclass(frozen=True)
class CourseCompletion:
    course_id: int
    title: str
    lessons: int
    enrolled: int
    completed: int

    @property
    def rate(self) -> float:
        return round(100 * self.completed / self.enrolled, 1) if self.enrolled else 0.0


def completion(*, scope: Scope) -> tuple[list[CourseCompletion], datetime | None]:
    """Completion per course from the rollup, and the oldest "as of" among them
    (None: not computed yet). A course newer than the last refresh shows zeros."""
    stats = {
        row[0]: row
        for row in CourseStat.objects.filter(
            school=scope.school, course_id__in=scope.course_ids
        ).values_list("course_id", "lessons", "enrolled", "completed", "refreshed_at")
    }
    rows = []
    for course_id, title in scope.courses.items():
        _, lessons, enrolled, completed, _at = stats.get(course_id, (course_id, 0, 0, 0, None))
        rows.append(CourseCompletion(course_id, title, lessons, enrolled, completed))
    times = [row[4] for row in stats.values()]
    return rows, (min(times) if times else None)


@dataclass(frozen=True)
class FunnelStep:
    lesson_id: int
    title: str
    started: int
    completed: int
    watched_seconds: int


def funnel(
    *, scope: Scope, course_id: int, rng: DateRange
) -> tuple[list[FunnelStep], int, datetime | None]:
    """Each lesson of the course in outline order: students who opened and completed it
    (rollup), seconds watched in the range (live); the course's enrolled count and the
    rollup's "as of"."""
    lessons = list(
        Lesson.objects.filter(school=scope.school, course_id=course_id)
        .order_by("section__position", "section_id", "position", "id")
        .values_list("id", "title")
    )
    stats = {
        row[0]: row
        for row in LessonStat.objects.filter(school=scope.school, course_id=course_id).values_list(
            "lesson_id", "started", "completed", "refreshed_at"
        )
    }
    course_stat = (
        CourseStat.objects.filter(school=scope.school, course_id=course_id)
        .values_list("enrolled", "refreshed_at")
        .first()
    )
    watched = watch_time(scope=scope, course_id=course_id, rng=rng)
    steps = []
    for lesson_id, title in lessons:
        _, started, completed, _at = stats.get(lesson_id, (lesson_id, 0, 0, None))
        steps.append(FunnelStep(lesson_id, title, started, completed, watched.get(lesson_id, 0)))
    enrolled, as_of = course_stat if course_stat else (0, None)
    return steps, enrolled, as_of
