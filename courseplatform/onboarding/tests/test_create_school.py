"""create_school refuses each kind of bad input with an error on the field at fault
and leaves no school, owner or page behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from courseplatform.accounts.models import User
from courseplatform.onboarding.services import SCHOOL_NAME_MAX, create_school
from courseplatform.sites.models import Page
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-passphrase-42"


def _create(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "slug": "gamma",
        "name": "Gamma Academy",
        "owner_email": "owner@gamma.test",
        "owner_password": PASSWORD,
        "owner_name": "Gamma Owner",
        **overrides,
    }
    return create_school(**fields)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "ab"}, "slug", "Use at least 3 characters."),
        ({"slug": "www"}, "slug", "This subdomain is reserved."),
        ({"name": "   "}, "name", "Give your school a name."),
        (
            {"name": "x" * (SCHOOL_NAME_MAX + 1)},
            "name",
            f"Use at most {SCHOOL_NAME_MAX} characters.",
        ),
        ({"plan_code": "platinum"}, "plan", "Unknown plan 'platinum'."),
        ({"owner_password": "gamma"}, "password", "This password is too short."),
    ],
)
def test_create_school_refuses_bad_input_and_creates_nothing(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    before = School.objects.count()
    with pytest.raises(ValidationError) as raised:
        _create(**overrides)
    errors = raised.value.message_dict
    assert list(errors) == [field]
    assert any(text.startswith(message) for text in errors[field]), errors
    assert School.objects.count() == before
    assert not School.objects.filter(slug=overrides.get("slug", "gamma")).exists()


def test_create_school_with_a_taken_slug_leaves_the_first_school_alone() -> None:
    first = _create()
    with pytest.raises(ValidationError) as raised:
        _create(name="Impostor", owner_email="owner@impostor.test")
    assert raised.value.message_dict == {"slug": ["This subdomain is already taken."]}
    assert list(School.objects.filter(slug="gamma").values_list("name", flat=True)) == [
        "Gamma Academy"
    ]
    with school_context(first.school):
        assert list(User.objects.values_list("email", flat=True)) == ["owner@gamma.test"]
        assert Page.objects.count() == 1


def test_create_school_without_a_password_makes_an_owner_who_must_reset() -> None:
    created = _create(owner_password=None, name="  Gamma Academy  ")
    assert created.school.name == "Gamma Academy"
    with school_context(created.school):
        owner = User.objects.get(pk=created.owner.pk)
    assert owner.role == User.Role.OWNER and not owner.has_usable_password()
