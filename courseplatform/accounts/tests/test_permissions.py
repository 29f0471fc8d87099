"""The permission rule itself (``accounts.permissions``), on the cast of
``tests/fixtures/permissions.py``: an owner, two instructors, a student, their
courses, batches and videos, and a second school."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.tenancy.rls import school_context
from tests.fixtures.permissions import Cast, logged_in

pytestmark = pytest.mark.django_db


def test_role_values_are_the_models() -> None:
    assert (permissions.OWNER, permissions.INSTRUCTOR) == (User.Role.OWNER, User.Role.INSTRUCTOR)


def test_can_manage_school_owner_and_instructors_only(cast: Cast, make_user: Any) -> None:
    staff = User.objects.create_superuser("ops@platform.test", "a-long-staff-passphrase-1")
    school = cast.school
    assert permissions.can_manage_school(cast.owner, school)
    assert permissions.can_manage_school(cast.teacher, school)
    assert permissions.can_manage_school(cast.teacher, school.pk)  # an id answers the same
    for nobody in (cast.student, cast.other_owner, staff, AnonymousUser(), None):
        assert not permissions.can_manage_school(nobody, school)
    assert permissions.is_school_owner(cast.owner, school)
    assert not permissions.is_school_owner(cast.teacher, school)
    assert not permissions.is_school_owner(cast.other_owner, school)


def test_role_in_a_deactivated_account_manages_nothing(cast: Cast) -> None:
    with school_context(cast.school):
        User.objects.filter(pk=cast.teacher.pk).update(is_active=False)
        cast.teacher.refresh_from_db()
    assert permissions.role_in(cast.teacher, cast.school) is None
    assert not permissions.can_manage_course(cast.teacher, cast.mine)


def test_can_manage_course_owner_all_instructor_only_taught(cast: Cast) -> None:
    with school_context(cast.school):
        assert permissions.can_manage_course(cast.owner, cast.mine)
        assert permissions.can_manage_course(cast.owner, cast.theirs)
        assert permissions.can_manage_course(cast.teacher, cast.mine)
        assert not permissions.can_manage_course(cast.teacher, cast.theirs)
        assert not permissions.can_manage_course(cast.student, cast.mine)
        assert not permissions.can_manage_course(cast.other_owner, cast.mine)


def test_can_manage_course_demoted_instructor_keeps_no_rights(cast: Cast) -> None:
    with school_context(cast.school):
        User.objects.filter(pk=cast.teacher.pk).update(role=User.Role.STUDENT)
        cast.teacher.refresh_from_db()
        # The CourseInstructor row is still there; the role decides.
        assert cast.mine.instructors.filter(pk=cast.teacher.pk).exists()
        assert not permissions.can_manage_course(cast.teacher, cast.mine)


def test_manageable_courses_lists_what_each_person_manages(cast: Cast) -> None:
    from courseplatform.courses.models import Course

    with school_context(cast.school):
        every = Course.objects.all()
        assert set(permissions.manageable_courses(cast.owner, every)) == {cast.mine, cast.theirs}
        assert list(permissions.manageable_courses(cast.teacher, every)) == [cast.mine]
        assert list(permissions.manageable_courses(cast.student, every)) == []
        assert list(permissions.manageable_courses(AnonymousUser(), every)) == []
        staff = User(email="ops@platform.test", is_staff=True, role=User.Role.OWNER)
        assert list(permissions.manageable_courses(staff, every)) == []  # no school: nothing


def test_can_manage_batch_only_when_every_course_is_taught(cast: Cast) -> None:
    with school_context(cast.school):
        for batch in (cast.only_mine, cast.spanning, cast.only_theirs):
            assert permissions.can_manage_batch(cast.owner, batch)
            assert not permissions.can_manage_batch(cast.student, batch)
        assert permissions.can_manage_batch(cast.teacher, cast.only_mine)
        assert not permissions.can_manage_batch(cast.teacher, cast.spanning)
        assert not permissions.can_manage_batch(cast.teacher, cast.only_theirs)
        assert permissions.can_manage_batch(cast.colleague, cast.only_theirs)
        assert not permissions.can_manage_batch(cast.colleague, cast.spanning)
        # Co-teaching the other course makes the spanning batch theirs too.
        from courseplatform.courses.services import set_course_instructor

        set_course_instructor(
            school=cast.school,
            actor=cast.owner,
            course=cast.theirs,
            user=cast.teacher,
            teaching=True,
        )
        assert permissions.can_manage_batch(cast.teacher, cast.spanning)
    with school_context(cast.other_school):
        assert not permissions.can_manage_batch(cast.owner, cast.other_batch)


def test_can_manage_batch_without_courses_is_the_owners(cast: Cast) -> None:
    from courseplatform.courses.services import delete_course

    with school_context(cast.school):
        delete_course(school=cast.school, actor=cast.teacher, course=cast.mine)
        cast.only_mine.refresh_from_db()
        assert not cast.only_mine.courses.exists()
        assert not permissions.can_manage_batch(cast.teacher, cast.only_mine)
        assert permissions.can_manage_batch(cast.owner, cast.only_mine)


def test_manageable_batches_keeps_the_callers_totals(cast: Cast) -> None:
    from courseplatform.access import selectors

    with school_context(cast.school):
        every = selectors.batches_for_school(school=cast.school)
        owner_rows = {b.pk: selectors.batch_stats(b) for b in every}
        mine = list(permissions.manageable_batches(cast.teacher, every))
        assert [b.pk for b in mine] == [cast.only_mine.pk]
        # The narrowing adds no join: the stats of the kept batch are unchanged.
        assert selectors.batch_stats(mine[0]) == owner_rows[cast.only_mine.pk]
        assert selectors.batch_stats(mine[0]).issued == 2
        assert len(permissions.manageable_batches(cast.owner, every)) == 3
        assert not permissions.manageable_batches(cast.student, every).exists()


def test_can_manage_video_owner_or_uploader(cast: Cast) -> None:
    assert permissions.can_manage_video(cast.owner, cast.their_video)
    assert permissions.can_manage_video(cast.teacher, cast.my_video)
    assert not permissions.can_manage_video(cast.teacher, cast.their_video)
    assert not permissions.can_manage_video(cast.student, cast.my_video)
    assert not permissions.can_manage_video(cast.other_owner, cast.my_video)


def test_require_foreign_or_missing_is_404_same_school_wrong_role_is_403(cast: Cast) -> None:
    school = cast.school
    checks = [
        (permissions.require_course_manager, cast.theirs, cast.other_course),
        (permissions.require_batch_manager, cast.spanning, cast.other_batch),
        (permissions.require_video_manager, cast.their_video, cast.other_video),
    ]
    with school_context(school):
        for require, same_school, foreign in checks:
            with pytest.raises(PermissionDenied):
                require(school, cast.teacher, same_school)
            with pytest.raises(PermissionDenied):
                require(school, cast.student, same_school)
            require(school, cast.owner, same_school)
            # Another school's object is "not found" for everyone, its owner included.
            for actor in (cast.owner, cast.teacher, cast.other_owner):
                with pytest.raises(Http404):
                    require(school, actor, foreign)
        with pytest.raises(Http404):
            permissions.require_in_school(school, cast.mine, None)
        with pytest.raises(Http404):
            permissions.require_school_manager(school, cast.owner, cast.other_lesson)
        with pytest.raises(PermissionDenied, match="Only the school owner can do this"):
            permissions.require_school_owner(school, cast.teacher, cast.my_lesson)
        with pytest.raises(PermissionDenied, match="No students"):
            permissions.require_school_manager(school, cast.student, message="No students")
        permissions.require_school_manager(school, cast.teacher, cast.my_lesson, cast.theirs)
        permissions.require_school_owner(school, cast.owner, cast.theirs)


def test_people_roles_owner_only_403_in_school_404_across(cast: Cast) -> None:
    teacher, owner = logged_in(cast.teacher), logged_in(cast.owner)
    assert teacher.get("/manage/students/").status_code == 200  # instructors see people
    refused = teacher.post(f"/manage/students/{cast.student.pk}/role/", {"role": "owner"})
    assert refused.status_code == 403
    foreign = owner.post(f"/manage/students/{cast.other_owner.pk}/role/", {"role": "student"})
    assert foreign.status_code == 404
    changed = owner.post(f"/manage/students/{cast.student.pk}/role/", {"role": "instructor"})
    assert changed.status_code == 302
    with school_context(cast.school):
        cast.student.refresh_from_db()
        assert cast.student.role == User.Role.INSTRUCTOR
    with school_context(cast.other_school):
        cast.other_owner.refresh_from_db()
        assert cast.other_owner.role == User.Role.OWNER
