"""The plan's student limit: sign-ups beyond it are refused, staff accounts are not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.accounts.services import register_user
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_student_plan(school_a: Any, plan_limits: Any) -> Any:
    plan_limits(school_a.school.plan, max_students=2)
    return school_a.school


def _students(school: Any) -> list[str]:
    with school_context(school):
        return sorted(
            User.objects.filter(school=school, role=User.Role.STUDENT).values_list(
                "email", flat=True
            )
        )


def test_signup_beyond_the_student_limit_is_refused_and_creates_nothing(
    two_student_plan: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
    mailoutbox: list[Any],
) -> None:
    school = two_student_plan
    make_user(school, "one@alpha.test")
    client = client_for("alpha.localhost")
    second = client.post(
        "/accounts/signup/",
        {"full_name": "Two", "email": "two@alpha.test", "password": PASSWORD},
    )
    assert second.status_code == 302  # the last place is still free

    third = client_for("alpha.localhost").post(
        "/accounts/signup/",
        {"full_name": "Three", "email": "three@alpha.test", "password": PASSWORD},
    )
    assert third.status_code == 200
    assert "reached the limit of its Free plan (2 students)" in third.content.decode()
    assert _students(school) == ["one@alpha.test", "two@alpha.test"]
    assert [message.to for message in mailoutbox] == [["two@alpha.test"]]


def test_staff_accounts_do_not_take_student_places(
    two_student_plan: Any, make_user: Callable[..., Any]
) -> None:
    school = two_student_plan
    make_user(school, "one@alpha.test")
    make_user(school, "two@alpha.test")
    with school_context(school):
        teacher = register_user(
            school=school,
            email="teacher@alpha.test",
            password=PASSWORD,
            full_name="Teacher",
            role=User.Role.INSTRUCTOR,
        )
        assert teacher.role == User.Role.INSTRUCTOR
        with pytest.raises(ValidationError) as refused:
            register_user(
                school=school, email="three@alpha.test", password=PASSWORD, full_name="Three"
            )
    assert refused.value.error_dict["__all__"][0].code == "student_limit"
    assert _students(school) == ["one@alpha.test", "two@alpha.test"]


def test_unlimited_plan_takes_any_number_of_students(
    make_school: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    created = make_school("gamma", plan="enterprise")
    for n in range(3):
        make_user(created.school, f"s{n}@gamma.test")
    with school_context(created.school):
        register_user(
            school=created.school, email="s3@gamma.test", password=PASSWORD, full_name="S"
        )
    assert len(_students(created.school)) == 4
