"""Adding a student by email on the roster respects the plan's student limit."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment
from courseplatform.tenancy.rls import school_context

from .test_student_views import Built, build_course, client_as, new_user, text

pytestmark = pytest.mark.django_db


def test_roster_add_creates_no_account_beyond_the_limit_but_enrols_existing_students(
    school_a: Any, mailoutbox: list[Any], plan_limits: Any
) -> None:
    school = school_a.school
    built: Built = build_course(school, school_a.owner)
    plan_limits(school.plan, max_students=1)
    existing = new_user(school, "ada@alpha.test", name="Ada")
    client = client_as(school_a.owner, school)
    add = f"/manage/courses/{built.course.pk}/students/add/"

    refused = client.post(add, {"email": "new@alpha.test", "full_name": "New"})
    assert refused.status_code == 400
    assert "reached the limit of its Free plan (1 student)" in text(refused)
    with school_context(school):
        assert not User.objects.filter(email="new@alpha.test").exists()
    assert mailoutbox == []

    enrolled = client.post(add, {"email": "ada@alpha.test"})
    assert enrolled.status_code == 302
    with school_context(school):
        assert Enrollment.objects.filter(student=existing, course=built.course).exists()
