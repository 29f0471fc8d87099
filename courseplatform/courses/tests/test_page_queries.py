"""The database round trips of the student pages, pinned: the lesson page and My courses
run exactly these many statements on a warm cache, the same for a small and a large
course (or one and ten enrolments). A new statement fails here with the list printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from courseplatform.accounts.models import User
from courseplatform.courses.models import Lesson
from courseplatform.courses.tests.test_student_views import (
    Built,
    build_course,
    client_as,
    complete,
    enroll,
    new_user,
)
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from tests.fixtures.queries import assert_statements, page_statements

pytestmark = pytest.mark.django_db

# Per page view, enrolled or not (the user, the theme, the course tree and the lesson
# come from the cache; the school setting rides along with the first statement): the
# visit (which is the enrolment check) and the progress rows.
LESSON_STATEMENTS = 2
# A lesson with a video reads the video row live (the transcoder changes it in bulk).
LESSON_STATEMENTS_VIDEO = LESSON_STATEMENTS + 1
# The enrolments (with the certificate subqueries), their lessons in outline order, the
# student's completed lessons: three plain statements (courses/selectors.py, my_courses).
MY_COURSES_STATEMENTS = 3


def _ready_video(school: Any, owner: User, lesson: Lesson) -> None:
    """A processed video on ``lesson`` (the row only: the page reads no file)."""
    with school_context(school):
        asset = VideoAsset.objects.create(
            school=school,
            created_by=owner,
            title="Talk",
            original_filename="talk.mp4",
            status=VideoAsset.Status.READY,
            duration_seconds=120.0,
            width=1280,
            height=720,
        )
        Lesson.objects.filter(pk=lesson.pk).update(video=asset, kind=Lesson.Kind.VIDEO)


@pytest.fixture
def courses(school_a: Any) -> tuple[Built, Built]:
    small = build_course(school_a.school, school_a.owner, title="Small", sections=1, per_section=2)
    large = build_course(
        school_a.school,
        school_a.owner,
        title="Large",
        sections=5,
        per_section=8,
        attachments=True,
        cover=True,
    )
    for built in (small, large):
        _ready_video(school_a.school, school_a.owner, built.lessons[1])
    return small, large


def test_lesson_page_statements_do_not_grow_with_the_outline(
    school_a: Any, courses: tuple[Built, Built]
) -> None:
    small, large = courses
    student = new_user(school_a.school, "counted@alpha.test")
    enroll(school_a.school, school_a.owner, small.course, student)
    enroll(school_a.school, school_a.owner, large.course, student)
    complete(school_a.school, student, small.lessons[0])
    complete(school_a.school, student, *large.lessons[:25])
    client = client_as(student, school_a.school)
    for built in (small, large):
        # A text lesson and a lesson with a ready video (the player reads no more rows).
        for lesson, expected in (
            (built.lessons[0], LESSON_STATEMENTS),
            (built.lessons[1], LESSON_STATEMENTS_VIDEO),
        ):
            statements = page_statements(client, built.lesson_url(lesson))
            assert_statements(statements, expected)


def test_lesson_page_statements_for_the_owner(school_a: Any, courses: tuple[Built, Built]) -> None:
    client = client_as(school_a.owner, school_a.school)
    for built in courses:
        statements = page_statements(client, built.lesson_url(built.lessons[1]))
        assert_statements(statements, LESSON_STATEMENTS_VIDEO)


def test_my_courses_statements_do_not_grow_with_the_enrolments(
    school_a: Any, make_school: Callable[..., Any]
) -> None:
    school = make_school("tencourses", plan="premium")
    built = [
        build_course(school.school, school.owner, title=f"Course {i}", cover=i % 2 == 0)
        for i in range(10)
    ]
    one, ten = new_user(school.school, "one@ten.test"), new_user(school.school, "ten@ten.test")
    enroll(school.school, school.owner, built[0].course, one)
    for course in built:
        enroll(school.school, school.owner, course.course, ten)
        complete(school.school, ten, course.lessons[0])
    for user in (one, ten):
        statements = page_statements(client_as(user, school.school), "/my/")
        assert_statements(statements, MY_COURSES_STATEMENTS)


def test_my_courses_continue_follows_the_outline_order_and_progress(school_a: Any) -> None:
    """My courses picks the next lesson as the rule says: the last
    lesson opened unless done, else the first not completed in outline order (sections
    by their place), else the first lesson."""
    from courseplatform.courses import services

    school, owner = school_a.school, school_a.owner
    built = build_course(school, owner, title="Ordered", sections=2, per_section=2)
    with school_context(school):
        sections = list(built.course.sections.order_by("position"))
        services.reorder_sections(
            school=school,
            actor=owner,
            course=built.course,
            section_ids=[s.pk for s in sections[::-1]],
        )
    first, second = built.lessons[2], built.lessons[3]  # section 2 now comes first
    student = new_user(school, "order@alpha.test")
    enroll(school, owner, built.course, student)
    client = client_as(student, school)

    def continue_url() -> str:
        page = client.get("/my/").content.decode()
        start = page.index("data-continue") - 200
        return page[start:].split('href="', 1)[1].split('"', 1)[0]

    assert continue_url() == built.lesson_url(first)  # nothing opened: the first lesson
    client.get(built.lesson_url(built.lessons[1]))
    assert continue_url() == built.lesson_url(built.lessons[1])  # the last one opened
    complete(school, student, built.lessons[1])
    complete(school, student, first)
    with school_context(school):
        services.record_lesson_visit(school=school, student=student, lesson=built.lessons[1])
    assert continue_url() == built.lesson_url(second)  # last opened is done: first open one
    complete(school, student, second, built.lessons[0])
    assert continue_url() == built.lesson_url(first)  # all done: back to the first
