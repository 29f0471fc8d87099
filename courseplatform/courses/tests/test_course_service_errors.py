"""Course services refuse bad input with a clear error and change nothing; replacing a
cover or deleting a course removes the stored files once the transaction commits."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from courseplatform.accounts.models import User
from courseplatform.courses import services
from courseplatform.courses.models import CourseInstructor, Enrollment, Lesson
from courseplatform.courses.services import TITLE_MAX, CourseError
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context

from .test_manage_views import build_outline, png_upload, snapshot

pytestmark = pytest.mark.django_db


def _error_fields(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return dict(excinfo.value.message_dict)


def test_course_services_refuse_bad_titles_subtitles_slugs_kinds_and_durations(
    school_a: Any,
) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_outline(school, owner)
    before = snapshot(school)
    course, section, lesson = built.course, built.sections[0], built.lessons[0]
    with school_context(school):
        update = {
            "school": school,
            "actor": owner,
            "course": course,
            "title": course.title,
            "subtitle": "",
            "description_md": "",
        }
        refusals: list[tuple[Any, dict[str, Any], str, str]] = [
            (services.update_course, {**update, "title": "  "}, "title", "required"),
            (
                services.update_course,
                {**update, "title": "x" * (TITLE_MAX + 1)},
                "title",
                "at most",
            ),
            (services.update_course, {**update, "subtitle": "s" * 301}, "subtitle", "300"),
            (services.update_course, {**update, "slug": "!!!"}, "slug", "letters, digits"),
            (
                services.add_lesson,
                {
                    "school": school,
                    "actor": owner,
                    "section": section,
                    "title": "X",
                    "kind": "podcast",
                },
                "kind",
                "Choose video",
            ),
        ]
        lesson_update = {
            "school": school,
            "actor": owner,
            "lesson": lesson,
            "title": lesson.title,
            "kind": Lesson.Kind.TEXT,
            "body_md": "",
            "is_preview": False,
            "duration_minutes": 5,
        }
        refusals += [
            (services.update_lesson, {**lesson_update, "kind": "podcast"}, "kind", "Choose video"),
            (
                services.update_lesson,
                {**lesson_update, "duration_minutes": 1441},
                "duration_minutes",
                "1440",
            ),
            (
                services.update_lesson,
                {**lesson_update, "duration_minutes": -1},
                "duration_minutes",
                "1440",
            ),
        ]
        for call, kwargs, field, words in refusals:
            with pytest.raises(ValidationError) as excinfo:
                call(**kwargs)
            assert words in " ".join(_error_fields(excinfo)[field]), (call.__name__, field)
    assert snapshot(school) == before


def test_reorder_lessons_refuses_a_lesson_twice(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_outline(school, owner)
    welcome, materials = built.lessons[0].pk, built.lessons[1].pk
    before = snapshot(school)
    with school_context(school), pytest.raises(CourseError, match="appears twice"):
        services.reorder_lessons(
            school=school,
            actor=owner,
            section=built.sections[0],
            lesson_ids=[welcome, materials, welcome],
        )
    assert snapshot(school) == before


def test_enrolment_services_refuse_unknown_source_and_bad_email(
    school_a: Any, make_user: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_outline(school, owner)
    student = make_user(school, "sam@alpha.test")
    with school_context(school):
        with pytest.raises(ValueError, match="unknown enrolment source"):
            services.enroll_student(
                school=school, actor=owner, course=built.course, student=student, source="lottery"
            )
        with pytest.raises(ValidationError) as excinfo:
            services.enroll_by_email(
                school=school, actor=owner, course=built.course, email="not an address"
            )
        assert _error_fields(excinfo) == {"email": ["Enter a valid email address."]}
        assert not Enrollment.objects.filter(school=school).exists()
        assert User.objects.filter(school=school).count() == 2


def test_set_course_instructor_repeats_and_absent_removals_change_nothing(
    school_a: Any, make_user: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_outline(school, owner)
    teacher = make_user(school, "tia@alpha.test", role=User.Role.INSTRUCTOR)
    with school_context(school):
        audits = AuditLog.objects.filter(action__startswith="course.instructor_")
        services.set_course_instructor(
            school=school, actor=owner, course=built.course, user=teacher, teaching=True
        )
        assert audits.count() == 1
        services.set_course_instructor(
            school=school, actor=owner, course=built.course, user=teacher, teaching=True
        )
        services.set_course_instructor(
            school=school, actor=owner, course=built.course, user=teacher, teaching=False
        )
        services.set_course_instructor(
            school=school, actor=owner, course=built.course, user=teacher, teaching=False
        )
        assert audits.count() == 2
        assert set(
            CourseInstructor.objects.filter(course=built.course).values_list("user_id", flat=True)
        ) == {owner.pk}


def test_new_cover_and_course_deletion_remove_stored_files_after_commit(
    school_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_outline(school, owner)
    with school_context(school):
        first = services.set_course_cover(
            school=school, actor=owner, course=built.course, upload=png_upload()
        ).cover_key
        with django_capture_on_commit_callbacks(execute=True):
            second = services.set_course_cover(
                school=school, actor=owner, course=built.course, upload=png_upload()
            ).cover_key
        assert second != first
        assert not default_storage.exists(first)
        assert default_storage.exists(second)
        attachment_key = built.attachment.storage_key
        assert default_storage.exists(attachment_key)

        with django_capture_on_commit_callbacks(execute=True):
            services.delete_course(school=school, actor=owner, course=built.course)
        assert not default_storage.exists(second)
        assert not default_storage.exists(attachment_key)
