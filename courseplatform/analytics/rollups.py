"""Refreshing the analytics rollups (``CourseStat``, ``LessonStat``) of a school.

``refresh_school`` recomputes one school's rows from courses, enrolments and lesson
progress and replaces them in one transaction (readers see the old rows or the new
ones, never a mix). It runs as that school (``school_context``, row-level security in
force): from the task ``tasks.refresh_school_analytics`` (the page's "Refresh" button,
and a school's first visit) and from ``manage.py refresh_analytics``, which
``scripts/serve.py`` runs every ``PERIODIC_INTERVAL_SECONDS`` and which refreshes the
schools whose figures are older than ``ANALYTICS_REFRESH_MINUTES`` (the stalest first,
at most ``limit`` a run, no new school after ``budget_seconds``).

Only enrolled students count: progress rows of a student who was removed from a
course stay in the database but not in the figures. A course is completed by a
student who completed every one of its lessons (courses with no lesson: nobody).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from courseplatform.courses.models import Course, Enrollment, Lesson, LessonProgress
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context

from .models import CourseStat, LessonStat

SCAN_REASON = "analytics: find schools whose rollups are due"


@dataclass(frozen=True)
class Refreshed:
    school_id: int
    courses: int
    lessons: int
    seconds: float


def refresh_school(*, school: School, now: datetime | None = None) -> Refreshed:
    """Recompute ``school``'s rollups (call inside ``school_context(school)``)."""
    started = time.monotonic()
    now = now or timezone.now()
    course_ids = list(Course.objects.filter(school=school).values_list("id", flat=True))
    lessons = dict(
        Lesson.objects.filter(school=school)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    enrolled = dict(
        Enrollment.objects.filter(school=school)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    # The subquery is keyed by (student, course) only, deliberately without ``school``:
    # so its one usable index is the unique (student, course) one. With a school filter
    # in it, PostgreSQL without fresh statistics (right after a bulk import) scanned the
    # school's whole enrolment index once per progress row: minutes at 10,000 students
    # instead of under a second. The outer query is the school's, and so are the
    # students and courses it correlates on (and row-level security holds anyway).
    enrolled_progress = LessonProgress.objects.filter(school=school).filter(
        Exists(
            Enrollment.objects.filter(
                student_id=OuterRef("student_id"), course_id=OuterRef("course_id")
            )
        )
    )
    # (course, student) -> lessons completed; a student finished when it reaches the count.
    finished: Counter[int] = Counter()
    per_student = (
        enrolled_progress.filter(completed_at__isnull=False)
        .values("course_id", "student_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    # One (course, count) pair per student and course (about 20,000 at 10,000 students):
    # fetched at once. Not .iterator(): a server-side cursor makes PostgreSQL plan for
    # the first rows (nested loops), which is far slower for an aggregate read in full.
    for course_id, done in per_student:
        if done >= lessons.get(course_id, 0) > 0:
            finished[course_id] += 1
    lesson_rows = (
        enrolled_progress.values("lesson_id", "course_id")
        .annotate(started=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False)))
        .values_list("lesson_id", "course_id", "started", "completed")
    )
    lesson_stats = [
        LessonStat(
            school=school,
            lesson_id=lesson_id,
            course_id=course_id,
            started=started,
            completed=completed,
            refreshed_at=now,
        )
        for lesson_id, course_id, started, completed in lesson_rows
    ]
    course_stats = [
        CourseStat(
            school=school,
            course_id=course_id,
            lessons=lessons.get(course_id, 0),
            enrolled=enrolled.get(course_id, 0),
            completed=finished.get(course_id, 0),
            refreshed_at=now,
        )
        for course_id in course_ids
    ]
    with transaction.atomic():
        CourseStat.objects.filter(school=school).delete()
        LessonStat.objects.filter(school=school).delete()
        CourseStat.objects.bulk_create(course_stats, batch_size=1000)
        LessonStat.objects.bulk_create(lesson_stats, batch_size=1000)
    return Refreshed(school.pk, len(course_stats), len(lesson_stats), time.monotonic() - started)


def refresh_minutes() -> int:
    return int(getattr(settings, "ANALYTICS_REFRESH_MINUTES", 15))


def schools_due(*, now: datetime, limit: int) -> list[int]:
    """Active schools with courses whose rollups are missing, incomplete (a course newer
    than the last refresh) or older than ``ANALYTICS_REFRESH_MINUTES``; stalest first.
    A read-only scan across schools (platform role, not audited: it changes nothing)."""
    cutoff = now - timedelta(minutes=refresh_minutes())
    with platform_bypass(actor=None, reason=SCAN_REASON, audit=False):
        courses = dict(
            Course.objects.filter(school__status=School.Status.ACTIVE)
            .values("school_id")
            .annotate(n=Count("id"))
            .values_list("school_id", "n")
        )
        stats = {
            school_id: (n, oldest)
            for school_id, n, oldest in CourseStat.objects.values("school_id")
            .annotate(n=Count("id"), oldest=Min("refreshed_at"))
            .values_list("school_id", "n", "oldest")
        }
    due: list[tuple[datetime | None, int]] = []
    for school_id, n in courses.items():
        have, oldest = stats.get(school_id, (0, None))
        if have < n or oldest is None:
            due.append((None, school_id))
        elif oldest < cutoff:
            due.append((oldest, school_id))
    due.sort(key=lambda item: (item[0] is not None, item[0] or now, item[1]))
    return [school_id for _, school_id in due[:limit]]


def refresh_due(*, limit: int = 200, budget_seconds: float = 45.0) -> list[Refreshed]:
    """One periodic run: refresh the schools that are due, within the time budget."""
    deadline = time.monotonic() + budget_seconds
    done: list[Refreshed] = []
    for school_id in schools_due(now=timezone.now(), limit=limit):
        if time.monotonic() > deadline:
            break
        with school_context(school_id):
            school = School.objects.filter(pk=school_id).first()
            if school is not None:
                done.append(refresh_school(school=school))
    return done
