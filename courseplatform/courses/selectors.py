"""Reads of courses shared by the management area, the school site and the API.

Fetch-by-id selectors filter by school and raise ``Http404`` alike for a
missing row and another school's row, so ids reveal nothing. List selectors
run a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import (
    Count,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import zone_named
from courseplatform.tenancy.usage import figure_query

from . import drip
from .extensions import my_course_annotations
from .models import (
    Attachment,
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    Section,
)


def is_enrolled(*, student: User, course_id: int) -> bool:
    return Enrollment.objects.filter(student=student, course_id=course_id).exists()


def can_view_lesson(*, user: User, course: Course, lesson: Lesson) -> bool:
    """Preview lessons are open to everyone who can see the course; the rest only to
    enrolled students, the course's instructors and the school owner."""
    if lesson.course_id != course.pk:
        return False
    if lesson.is_preview and course.is_published:
        return True
    if not user.is_authenticated or user.school_id != course.school_id:
        return False
    if permissions.can_manage_course(user, course):
        return True
    enrolled_at = (
        Enrollment.objects.filter(school_id=course.school_id, student=user, course_id=course.pk)
        .values_list("created_at", flat=True)
        .first()
    )
    return enrolled_at is not None and section_is_open(
        school_id=course.school_id, section_id=lesson.section_id, enrolled_at=enrolled_at
    )


def section_is_open(
    *, school_id: int, section_id: int, enrolled_at: datetime, now: datetime | None = None
) -> bool:
    """Whether the drip schedule has opened the section for a student enrolled at
    ``enrolled_at`` (one query: the section's rule with the school's time zone). For
    the pages that check one lesson at a time (video playback, downloads)."""
    row = (
        Section.objects.filter(school_id=school_id, pk=section_id)
        .values_list("release", "release_days", "release_date", "school__time_zone")
        .first()
    )
    if row is None:
        return False
    release, days, on_date, zone_name = row
    section = Section(release=release, release_days=days, release_date=on_date)
    state = drip.section_release(
        section,
        enrolled_at=enrolled_at,
        now=now or timezone.now(),
        zone=zone_named(zone_name),
    )
    return state.is_open


# --- management ---------------------------------------------------------------------------


def courses_for_manager(*, school: School, user: User) -> QuerySet[Course]:
    """The courses ``user`` manages (all for the owner, the taught ones for an instructor)."""
    return (
        permissions.manageable_courses(user, Course.objects.filter(school=school))
        .annotate(
            student_count=Count("enrollments", distinct=True),
            lesson_count=Count("lessons", distinct=True),
        )
        .order_by("-created_at")
    )


def _managed[T](school: School, user: User, obj: T | None, course: Course | None, what: str) -> T:
    # Missing or another school's: 404 (ids reveal nothing); this school's but a course
    # the person may not manage: 403.
    if obj is None or course is None:
        raise Http404(f"No such {what}.")
    permissions.require_course_manager(school, user, course)
    return obj


def get_course_for_manager(*, school: School, user: User, course_id: int) -> Course:
    course = Course.objects.filter(school=school, pk=course_id).first()
    return _managed(school, user, course, course, "course")


def get_section_for_manager(*, school: School, user: User, section_id: int) -> Section:
    section = Section.objects.select_related("course").filter(school=school, pk=section_id).first()
    return _managed(school, user, section, section.course if section else None, "section")


def get_lesson_for_manager(*, school: School, user: User, lesson_id: int) -> Lesson:
    lesson = (
        Lesson.objects.select_related("course", "section")
        .filter(school=school, pk=lesson_id)
        .first()
    )
    return _managed(school, user, lesson, lesson.course if lesson else None, "lesson")


def get_attachment_for_manager(*, school: School, user: User, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.select_related("lesson__course")
        .filter(school=school, pk=attachment_id)
        .first()
    )
    return _managed(
        school, user, attachment, attachment.lesson.course if attachment else None, "file"
    )


def _sections_with(course: Course, lessons: QuerySet[Lesson]) -> list[Section]:
    return list(
        Section.objects.filter(school_id=course.school_id, course=course)
        .order_by("position", "id")
        .prefetch_related(Prefetch("lessons", queryset=lessons.order_by("position", "id")))
    )


def outline(*, course: Course) -> list[Section]:
    """Sections with their lessons and attachments, in order: three queries."""
    return _sections_with(course, Lesson.objects.prefetch_related("attachments"))


# What the school site's outline shows of a lesson; the bodies can be long and are read
# only for the lesson being opened (``site_cache.lesson_page_content``).
_OUTLINE_LESSON_FIELDS = (
    "id",
    "school_id",
    "course_id",
    "section_id",
    "title",
    "kind",
    "is_preview",
    "duration_minutes",
    "position",
)


def syllabus_outline(*, course: Course) -> list[Section]:
    """Sections with their lessons (no bodies, no attachments), in order: two queries."""
    return _sections_with(course, Lesson.objects.only(*_OUTLINE_LESSON_FIELDS))


@dataclass
class RosterRow:
    enrollment: Enrollment
    completed: int
    total: int
    # (label, url) per student, from apps that registered roster links (lesson_kinds).
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


def roster(*, school: School, course: Course) -> list[RosterRow]:
    total = Lesson.objects.filter(school=school, course=course).count()
    enrollments = (
        Enrollment.objects.filter(school=school, course=course)
        .select_related("student")
        .annotate(
            completed=Count(
                "student__lesson_progress",
                filter=Q(
                    student__lesson_progress__course=course,
                    student__lesson_progress__completed_at__isnull=False,
                ),
                distinct=True,
            )
        )
        .order_by("student__full_name", "student__email")
    )
    return [RosterRow(e, e.completed, total) for e in enrollments]  # type: ignore[attr-defined]


def get_enrollment_for_manager(*, school: School, user: User, enrollment_id: int) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_related("course", "student")
        .filter(school=school, pk=enrollment_id)
        .first()
    )
    return _managed(
        school, user, enrollment, enrollment.course if enrollment else None, "enrolment"
    )


# --- school site --------------------------------------------------------------------------


def published_courses(*, school: School) -> QuerySet[Course]:
    return (
        Course.objects.filter(school=school, status=Course.Status.PUBLISHED)
        .annotate(lesson_count=Count("lessons", distinct=True))
        .order_by("-published_at", "-id")
    )


def require_visible(*, user: User, course: Course) -> None:
    """404 unless ``course`` is published or ``user`` manages it (a draft's preview)."""
    if not course.is_published and not permissions.can_manage_course(user, course):
        raise Http404("No such course.")


def get_visible_course(*, school: School, user: User, slug: str) -> Course:
    """A published course, or a draft for the people who manage it (preview)."""
    course = Course.objects.filter(school=school, slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    require_visible(user=user, course=course)
    return course


def get_attachment_of_course(*, course: Course, attachment_id: int) -> Attachment:
    """An attachment of one of ``course``'s lessons; 404 for any other id."""
    attachment = (
        Attachment.objects.select_related("lesson")
        .filter(school_id=course.school_id, lesson__course=course, pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise Http404("No such file.")
    return attachment


def get_enrollment(*, student: User, course: Course) -> Enrollment | None:
    if not student.is_authenticated or student.school_id != course.school_id:
        return None
    return Enrollment.objects.filter(
        school_id=course.school_id, student=student, course=course
    ).first()


def enrolled_course_ids(*, school: School, student: User) -> set[int]:
    if not student.is_authenticated or student.school_id != school.pk:
        return set()
    return set(
        Enrollment.objects.filter(school=school, student=student).values_list(
            "course_id", flat=True
        )
    )


def completed_lesson_ids(*, student: User, course: Course) -> set[int]:
    if not student.is_authenticated:
        return set()
    return set(
        LessonProgress.objects.filter(
            student=student, course=course, completed_at__isnull=False
        ).values_list("lesson_id", flat=True)
    )


@dataclass(frozen=True)
class LessonState:
    """One student's progress in one lesson."""

    completed: bool
    position_seconds: int


def lesson_states(*, student: User, course: Course) -> dict[int, LessonState]:
    """The student's progress rows in ``course`` by lesson id: one query (none for visitors).
    Rows exist for lessons started (a saved video position) as well as completed ones."""
    if not student.is_authenticated or student.school_id != course.school_id:
        return {}
    rows = LessonProgress.objects.filter(
        school_id=course.school_id, student=student, course=course
    ).values_list("lesson_id", "completed_at", "last_position_seconds")
    return {
        lesson_id: LessonState(completed_at is not None, position)
        for lesson_id, completed_at, position in rows
    }


@dataclass
class MyCourse:
    course: Course
    enrollment: Enrollment
    completed: int
    total: int
    continue_lesson_id: int | None = None
    # Values annotated by the apps above courses (``extensions.MyCourseExtra``).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


# Outline order of a course's lessons (the section's place first).
_LESSON_ORDER = ("section__position", "section_id", "position", "id")


def _count_of[M: Model](rows: QuerySet[M], key: str) -> Coalesce:
    """A correlated ``(SELECT count(*) …)`` of ``rows`` grouped by ``key``; 0 when none."""
    counted = rows.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def _continue_with(outline: list[int], done: set[int], last_open: int | None) -> int | None:
    """The last lesson opened if it is not done (``last_open``), else the first lesson not
    yet completed in outline order, else the first lesson (None: no lessons)."""
    if last_open is not None:
        return last_open
    open_lessons = (lesson_id for lesson_id in outline if lesson_id not in done)
    return next(open_lessons, outline[0] if outline else None)


def my_courses(*, school: School, student: User) -> list[MyCourse]:
    """The student's enrolments with progress and where to continue: three statements,
    whatever the number of courses (the enrolments with their courses and the subqueries
    of the apps above, the lessons of those courses in outline order, the student's
    completed lessons in them).

    One query with the counts and the next lesson as correlated subqueries was a round
    trip less, but Django took about 7 ms of CPU to build it, for 0.25 ms in PostgreSQL;
    these three plain statements take about 3 ms (bench/report.md, *Reading*)."""
    extra_annotations = my_course_annotations(school, student)
    enrollments = list(
        Enrollment.objects.filter(school=school, student=student)
        .select_related("course")
        .annotate(**extra_annotations)
        .order_by(F("last_activity_at").desc(nulls_last=True), "-created_at")
    )
    if not enrollments:
        return []
    course_ids = [e.course_id for e in enrollments]
    outlines: dict[int, list[int]] = {course_id: [] for course_id in course_ids}
    lessons = Lesson.objects.filter(school=school, course_id__in=course_ids).order_by(
        *_LESSON_ORDER
    )
    for course_id, lesson_id in lessons.values_list("course_id", "id"):
        outlines[course_id].append(lesson_id)
    done: dict[int, set[int]] = {course_id: set() for course_id in course_ids}
    completed = LessonProgress.objects.filter(
        school=school, student=student, course_id__in=course_ids, completed_at__isnull=False
    )
    for course_id, lesson_id in completed.values_list("course_id", "lesson_id"):
        done[course_id].add(lesson_id)
    done_anywhere = set().union(*done.values())
    return [
        MyCourse(
            e.course,
            e,
            len(done[e.course_id]),
            len(outlines[e.course_id]),
            _continue_with(
                outlines[e.course_id],
                done[e.course_id],
                e.last_lesson_id if e.last_lesson_id not in done_anywhere else None,
            ),
            {name: getattr(e, name) for name in extra_annotations},
        )
        for e in enrollments
    ]


def completed_students_query(*, school: School, course_id: int) -> QuerySet[Enrollment]:
    """Enrolments in the course whose student has completed every lesson of it (a course
    without lessons is never complete): for "issue to everyone who qualifies"."""
    lessons = Lesson.objects.filter(school=school, course_id=course_id)
    completed = LessonProgress.objects.filter(
        school=school,
        course_id=course_id,
        student=OuterRef("student_id"),
        completed_at__isnull=False,
    )
    return (
        Enrollment.objects.filter(school=school, course_id=course_id)
        .annotate(
            lesson_total=_count_of(lessons, "school_id"),
            lesson_completed=_count_of(completed, "student_id"),
        )
        .filter(lesson_total__gt=0, lesson_completed__gte=F("lesson_total"))
    )


def has_completed_course(*, school: School, student: User, course_id: int) -> bool:
    """Whether ``student`` has completed every lesson of the course (one query)."""
    return (
        completed_students_query(school=school, course_id=course_id)
        .filter(student=student)
        .exists()
    )


def count_courses(*, school: School) -> int:
    return Course.objects.filter(school=school).count()


def count_courses_query(school: School) -> QuerySet[Course]:
    """``count_courses`` as a usage query (tenancy.usage.figure_query)."""
    return figure_query(Course.objects.filter(school=school), Count("pk"))


def attachment_bytes(*, school: School) -> int:
    """Bytes of lesson attachments a school stores (they count against its storage quota)."""
    total = Attachment.objects.filter(school=school).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def attachment_bytes_query(school: School) -> QuerySet[Attachment]:
    """``attachment_bytes`` as a usage query."""
    return figure_query(Attachment.objects.filter(school=school), Sum("size"))


def course_instructors(*, course: Course) -> list[User]:
    return list(
        User.objects.filter(school_id=course.school_id, courseinstructor__course=course).order_by(
            "full_name", "email"
        )
    )


def assignable_instructors(*, school: School, course: Course) -> list[User]:
    """Owners and instructors of the school who do not teach ``course`` yet."""
    return list(
        User.objects.filter(
            school=school, role__in=[User.Role.OWNER, User.Role.INSTRUCTOR], is_active=True
        )
        .exclude(courseinstructor__course=course)
        .order_by("full_name", "email")
    )


def enrollment_progress(
    *, school: School, enrollments: list[Enrollment]
) -> dict[int, tuple[int, int]]:
    """Completed and total lessons of each enrolment, by enrolment id: two queries."""
    course_ids = {e.course_id for e in enrollments}
    totals = dict(
        Lesson.objects.filter(school=school, course_id__in=course_ids)
        .values_list("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    done: dict[tuple[int, int], int] = {}
    for student_id, course_id, n in (
        LessonProgress.objects.filter(
            school=school,
            student_id__in={e.student_id for e in enrollments},
            course_id__in=course_ids,
            completed_at__isnull=False,
        )
        .values_list("student_id", "course_id")
        .annotate(n=Count("id"))
        .values_list("student_id", "course_id", "n")
    ):
        done[(student_id, course_id)] = n
    return {
        e.pk: (done.get((e.student_id, e.course_id), 0), totals.get(e.course_id, 0))
        for e in enrollments
    }
