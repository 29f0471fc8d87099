"""Who may manage which course (``accounts.permissions``) on every course management
URL and in the services: the owner every course, an instructor the courses they
teach (403 on a colleague's), another school's ids 404, students 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from courseplatform.accounts.models import User
from courseplatform.courses import services
from courseplatform.courses.models import Course, Enrollment, Lesson, Section
from courseplatform.tenancy.rls import school_context
from tests.fixtures.permissions import Cast, logged_in

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"


def _course_urls(
    course: Course, section: Section, lesson: Lesson, attachment: Any, enrollment: Any
) -> list[str]:
    c, s, le = course.pk, section.pk, lesson.pk
    return [
        f"/manage/courses/{c}/",
        f"/manage/courses/{c}/cover/",
        f"/manage/courses/{c}/status/",
        f"/manage/courses/{c}/delete/",
        f"/manage/courses/{c}/instructors/",
        f"/manage/courses/{c}/outline/",
        f"/manage/courses/{c}/sections/new/",
        f"/manage/courses/{c}/reorder-sections/",
        f"/manage/courses/sections/{s}/rename/",
        f"/manage/courses/sections/{s}/delete/",
        f"/manage/courses/sections/{s}/move/",
        f"/manage/courses/sections/{s}/lessons/new/",
        f"/manage/courses/sections/{s}/reorder-lessons/",
        f"/manage/courses/lessons/{le}/",
        f"/manage/courses/lessons/{le}/move/",
        f"/manage/courses/lessons/{le}/delete/",
        f"/manage/courses/lessons/{le}/attachments/",
        f"/manage/courses/attachments/{attachment.pk}/delete/",
        f"/manage/courses/{c}/students/",
        f"/manage/courses/{c}/students.csv",
        f"/manage/courses/{c}/students/{enrollment.pk}/remove/",
    ]


def _furnish(
    school: Any, actor: User, course: Course, lesson: Lesson, student: User
) -> tuple[Any, Any]:
    """An attachment and an enrolment, so every URL of the course has an object."""
    with school_context(school):
        attachment = services.add_attachment(
            school=school,
            actor=actor,
            lesson=lesson,
            upload=SimpleUploadedFile("notes.txt", b"Brushes.\n", content_type="text/plain"),
        )
        enrollment, _ = services.enroll_student(
            school=school, actor=actor, course=course, student=student, source="manual"
        )
    return attachment, enrollment


def _state(school: Any) -> list[Any]:
    with school_context(school):
        return [
            *Course.objects.order_by("pk").values_list("pk", "title", "slug", "status"),
            *Section.objects.order_by("pk").values_list("pk", "title", "position"),
            *Lesson.objects.order_by("pk").values_list("pk", "title", "position", "section_id"),
            *Enrollment.objects.order_by("pk").values_list("pk", "course_id", "student_id"),
        ]


# The roster list and CSV answer POST with 405 before anything else.
_GET_ONLY = ("/students/", "/students.csv")

_HOSTILE = {
    "title": "Hijacked",
    "slug": "hijacked",
    "publish": "1",
    "direction": "up",
    "kind": "text",
    "action": "remove",
    "email": "new@alpha.test",
    "ids": "1,2",
}


def test_course_manage_owner_and_teaching_instructor_get_in(cast: Cast) -> None:
    _furnish(cast.school, cast.colleague, cast.theirs, cast.their_lesson, cast.student)
    owner, teacher = logged_in(cast.owner), logged_in(cast.teacher)
    for url in (
        f"/manage/courses/{cast.theirs.pk}/",
        f"/manage/courses/{cast.theirs.pk}/students/",
    ):
        assert owner.get(url).status_code == 200, url
    assert teacher.get(f"/manage/courses/{cast.mine.pk}/").status_code == 200
    assert teacher.get(f"/manage/courses/lessons/{cast.my_lesson.pk}/").status_code == 200
    renamed = teacher.post(
        f"/manage/courses/sections/{cast.my_section.pk}/rename/", {"title": "Renamed by me"}
    )
    assert renamed.status_code == 302
    with school_context(cast.school):
        assert Section.objects.get(pk=cast.my_section.pk).title == "Renamed by me"


def test_course_manage_list_shows_what_each_person_manages(cast: Cast) -> None:
    teacher_list = logged_in(cast.teacher).get("/manage/courses/").content.decode()
    assert "Teacher&#x27;s watercolour" in teacher_list
    assert "Colleague&#x27;s pottery" not in teacher_list
    owner_list = logged_in(cast.owner).get("/manage/courses/").content.decode()
    assert "Teacher&#x27;s watercolour" in owner_list and "Colleague&#x27;s pottery" in owner_list
    assert "Bravo course" not in owner_list


def test_course_manage_instructor_on_a_colleagues_course_is_403_and_nothing_changes(
    cast: Cast,
) -> None:
    attachment, enrollment = _furnish(
        cast.school, cast.colleague, cast.theirs, cast.their_lesson, cast.student
    )
    teacher = logged_in(cast.teacher)
    before = _state(cast.school)
    urls = _course_urls(cast.theirs, cast.their_section, cast.their_lesson, attachment, enrollment)
    for url in urls:
        assert teacher.get(url).status_code == 403, url
        if not url.endswith(_GET_ONLY):
            assert teacher.post(url, _HOSTILE).status_code == 403, url
    assert (
        teacher.post(f"/manage/courses/{cast.theirs.pk}/students/add/", _HOSTILE).status_code == 403
    )
    assert _state(cast.school) == before


def test_course_manage_other_schools_ids_are_404_for_everyone(
    cast: Cast, make_user: Callable[..., Any]
) -> None:
    bravo = cast.other_school
    with school_context(bravo):
        other_section = Section.objects.get(course=cast.other_course)
    attachment, enrollment = _furnish(
        bravo,
        cast.other_owner,
        cast.other_course,
        cast.other_lesson,
        make_user(bravo, "s@bravo.test"),
    )
    before = _state(bravo)
    urls = _course_urls(cast.other_course, other_section, cast.other_lesson, attachment, enrollment)
    for user in (cast.owner, cast.teacher):
        client = logged_in(user)
        for url in urls:
            assert client.get(url).status_code == 404, url
            if not url.endswith(_GET_ONLY):
                assert client.post(url, _HOSTILE).status_code == 404, url
    assert _state(bravo) == before


def test_course_manage_students_get_403(cast: Cast) -> None:
    attachment, enrollment = _furnish(
        cast.school, cast.teacher, cast.mine, cast.my_lesson, cast.student
    )
    student = logged_in(cast.student)
    urls = [
        "/manage/courses/",
        "/manage/courses/new/",
        *_course_urls(cast.mine, cast.my_section, cast.my_lesson, attachment, enrollment),
    ]
    for url in urls:
        assert student.get(url).status_code == 403, url


def test_course_services_refuse_a_colleague_403_and_another_school_404(cast: Cast) -> None:
    school = cast.school
    writes: list[Callable[[User, Any], Any]] = [
        lambda actor, course: services.update_course(
            school=school, actor=actor, course=course, title="X", subtitle="", description_md=""
        ),
        lambda actor, course: services.set_course_status(
            school=school, actor=actor, course=course, publish=False
        ),
        lambda actor, course: services.add_section(
            school=school, actor=actor, course=course, title="X"
        ),
        lambda actor, course: services.enroll_by_email(
            school=school, actor=actor, course=course, email="new@alpha.test"
        ),
        lambda actor, course: services.delete_course(school=school, actor=actor, course=course),
    ]
    with school_context(school):
        for write in writes:
            with pytest.raises(PermissionDenied):
                write(cast.teacher, cast.theirs)
            with pytest.raises(PermissionDenied):
                write(cast.student, cast.mine)
            with pytest.raises(Http404):
                write(cast.owner, cast.other_course)
        with pytest.raises(PermissionDenied):
            services.rename_section(
                school=school, actor=cast.teacher, section=cast.their_section, title="X"
            )
        with pytest.raises(PermissionDenied):
            services.update_lesson(
                school=school,
                actor=cast.teacher,
                lesson=cast.their_lesson,
                title="X",
                kind="text",
                body_md="",
                is_preview=False,
                duration_minutes=0,
            )
        with pytest.raises(Http404):
            services.delete_lesson(school=school, actor=cast.owner, lesson=cast.other_lesson)
        with pytest.raises(PermissionDenied, match="Only the school owner assigns instructors"):
            services.set_course_instructor(
                school=school,
                actor=cast.teacher,
                course=cast.mine,
                user=cast.colleague,
                teaching=True,
            )
        assert Course.objects.get(pk=cast.theirs.pk).title == "Colleague's pottery"
        assert Course.objects.filter(pk=cast.theirs.pk).exists()
