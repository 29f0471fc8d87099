"""Reads of courses shared by the management area, the school site and the API.

Fetch-by-id selectors filter by school and raise ``Http404`` alike for a
missing row and another school's row, so ids reveal nothing. List selectors
run a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.http import Http404

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.tenancy.models import School

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
    return permissions.can_manage_course(user, course) or is_enrolled(
        student=user, course_id=course.pk
    )


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


def outline(*, course: Course) -> list[Section]:
    """Sections with their lessons and attachments, in order: three queries."""
    return list(
        Section.objects.filter(school_id=course.school_id, course=course)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch(
                "lessons",
                queryset=Lesson.objects.order_by("position", "id").prefetch_related("attachments"),
            )
        )
    )


@dataclass
class RosterRow:
    enrollment: Enrollment
    completed: int
    total: int

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


def get_visible_course(*, school: School, user: User, slug: str) -> Course:
    """A published course, or a draft for the people who manage it (preview)."""
    course = Course.objects.filter(school=school, slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    if not course.is_published and not permissions.can_manage_course(user, course):
        raise Http404("No such course.")
    return course


def get_lesson_of_course(*, course: Course, lesson_id: int) -> Lesson:
    lesson = (
        Lesson.objects.filter(school_id=course.school_id, course=course, pk=lesson_id)
        .prefetch_related("attachments")
        .first()
    )
    if lesson is None:
        raise Http404("No such lesson.")
    return lesson


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


@dataclass
class MyCourse:
    course: Course
    enrollment: Enrollment
    completed: int
    total: int
    continue_lesson_id: int | None = None
    lesson_ids: list[int] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


def my_courses(*, school: School, student: User) -> list[MyCourse]:
    """The student's enrolments with progress and where to continue: three queries."""
    enrollments = list(
        Enrollment.objects.filter(school=school, student=student)
        .select_related("course")
        .order_by(F("last_activity_at").desc(nulls_last=True), "-created_at")
    )
    course_ids = [e.course_id for e in enrollments]
    lessons_by_course: dict[int, list[int]] = {cid: [] for cid in course_ids}
    for course_id, lesson_id in (
        Lesson.objects.filter(school=school, course_id__in=course_ids)
        .order_by("section__position", "section_id", "position", "id")
        .values_list("course_id", "id")
    ):
        lessons_by_course[course_id].append(lesson_id)
    done = set(
        LessonProgress.objects.filter(
            school=school, student=student, course_id__in=course_ids, completed_at__isnull=False
        ).values_list("lesson_id", flat=True)
    )
    result = []
    for enrollment in enrollments:
        lesson_ids = lessons_by_course.get(enrollment.course_id, [])
        completed = sum(1 for lesson_id in lesson_ids if lesson_id in done)
        next_id = enrollment.last_lesson_id
        if next_id is None or next_id in done:
            next_id = next((i for i in lesson_ids if i not in done), None) or (
                lesson_ids[0] if lesson_ids else None
            )
        result.append(
            MyCourse(enrollment.course, enrollment, completed, len(lesson_ids), next_id, lesson_ids)
        )
    return result


def count_courses(*, school: School) -> int:
    return Course.objects.filter(school=school).count()


def attachment_bytes(*, school: School) -> int:
    """Bytes of lesson attachments a school stores (they count against its storage quota)."""
    total = Attachment.objects.filter(school=school).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


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
