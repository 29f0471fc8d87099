"""Owners assign course instructors; owners change roles on the People page."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.accounts.models import User
from courseplatform.courses.models import CourseInstructor
from courseplatform.courses.services import create_course
from courseplatform.ops.models import AuditLog

pytestmark = pytest.mark.django_db


def _login(client: Any, user: Any, in_school: Any) -> None:
    with in_school(user.school):
        client.force_login(user)


def test_owner_makes_someone_an_instructor_then_assigns_them(
    school_a, make_user, in_school, client_for
) -> None:
    school, owner = school_a.school, school_a.owner
    person = make_user(school, "teacher@alpha.test")
    with in_school(school):
        course = create_course(school=school, actor=owner, title="Pottery")
    client = client_for("alpha.localhost")
    _login(client, owner, in_school)

    # A student cannot teach yet: the course page says what to do first.
    page = client.get(f"/manage/courses/{course.pk}/")
    assert "first make them an instructor" in page.content.decode()
    client.post(f"/manage/courses/{course.pk}/instructors/", {"user": person.pk, "action": "add"})
    with in_school(school):
        assert not CourseInstructor.objects.filter(course=course, user=person).exists()

    response = client.post(f"/manage/students/{person.pk}/role/", {"role": "instructor"})
    assert response.status_code == 302
    client.post(f"/manage/courses/{course.pk}/instructors/", {"user": person.pk, "action": "add"})
    with in_school(school):
        person.refresh_from_db()
        assert person.role == User.Role.INSTRUCTOR
        assert CourseInstructor.objects.filter(course=course, user=person).exists()
        assert AuditLog.objects.filter(action="account.role_changed").exists()
        assert AuditLog.objects.filter(action="course.instructor_added").exists()

    # The new instructor now manages this course.
    teacher_client = client_for("alpha.localhost")
    _login(teacher_client, person, in_school)
    assert teacher_client.get(f"/manage/courses/{course.pk}/").status_code == 200

    # Removing works while another instructor remains; the last one cannot be removed.
    client.post(
        f"/manage/courses/{course.pk}/instructors/", {"user": person.pk, "action": "remove"}
    )
    client.post(f"/manage/courses/{course.pk}/instructors/", {"user": owner.pk, "action": "remove"})
    with in_school(school):
        assert list(
            CourseInstructor.objects.filter(course=course).values_list("user", flat=True)
        ) == [owner.pk]
    assert teacher_client.get(f"/manage/courses/{course.pk}/").status_code == 403


def test_only_the_owner_changes_roles_and_assigns(
    school_a, make_user, in_school, client_for
) -> None:
    school, owner = school_a.school, school_a.owner
    teacher = make_user(school, "t@alpha.test", role="instructor")
    student = make_user(school, "s@alpha.test")
    with in_school(school):
        course = create_course(school=school, actor=owner, title="Glazes")
        CourseInstructor.objects.create(school=school, course=course, user=teacher)
    client = client_for("alpha.localhost")
    _login(client, teacher, in_school)
    client.post(f"/manage/students/{student.pk}/role/", {"role": "owner"})
    client.post(f"/manage/courses/{course.pk}/instructors/", {"user": owner.pk, "action": "remove"})
    with in_school(school):
        student.refresh_from_db()
        assert student.role == User.Role.STUDENT
        assert CourseInstructor.objects.filter(course=course, user=owner).exists()


def test_another_schools_people_and_courses_are_not_found(
    school_a, school_b, make_user, in_school, client_for
) -> None:
    with in_school(school_a.school):
        course_a = create_course(school=school_a.school, actor=school_a.owner, title="A")
    person_a = make_user(school_a.school, "p@alpha.test")
    client = client_for("bravo.localhost")
    _login(client, school_b.owner, in_school)
    assert (
        client.post(f"/manage/students/{person_a.pk}/role/", {"role": "owner"}).status_code == 404
    )
    assert (
        client.post(
            f"/manage/courses/{course_a.pk}/instructors/",
            {"user": school_b.owner.pk, "action": "add"},
        ).status_code
        == 404
    )
    with in_school(school_a.school):
        person_a.refresh_from_db()
        assert person_a.role == User.Role.STUDENT
        assert CourseInstructor.objects.filter(course=course_a).count() == 1


def test_attachments_count_against_the_plan_storage_quota(school_a, in_school, plan_limits) -> None:
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from courseplatform.courses.models import Attachment
    from courseplatform.courses.services import add_attachment, add_lesson, add_section
    from courseplatform.tenancy.usage import storage_used_bytes

    school, owner = school_a.school, school_a.owner
    plan_limits(school.plan, max_storage_bytes=1500)
    with in_school(school):
        course = create_course(school=school, actor=owner, title="Quota")
        section = add_section(school=school, actor=owner, course=course, title="S")
        lesson = add_lesson(school=school, actor=owner, section=section, title="L")
        add_attachment(
            school=school,
            actor=owner,
            lesson=lesson,
            upload=SimpleUploadedFile("a.txt", b"x" * 1000, "text/plain"),
        )
        assert storage_used_bytes(school=school) == 1000
        with pytest.raises(ValidationError, match="Not enough storage"):
            add_attachment(
                school=school,
                actor=owner,
                lesson=lesson,
                upload=SimpleUploadedFile("b.txt", b"y" * 600, "text/plain"),
            )
        assert Attachment.objects.filter(lesson=lesson).count() == 1
