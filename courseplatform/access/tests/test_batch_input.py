"""Batch creation refuses bad names with the field's error and creates nothing; the
batch page marks used-up and expired codes; a student of another school cannot redeem."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from courseplatform.access.models import AccessCode, AccessCodeBatch, Redemption
from courseplatform.access.services import create_batch, redeem_code

from .test_redeem import logged_in, make_codes, setup_school

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(school_a: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_a, in_school, make_user)


@pytest.fixture
def bravo(school_b: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_b, in_school, make_user)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "Give the batch a name"),
        ("n" * 121, "Use at most 120 characters."),
        ("Spring\nworkshop", "Use one line of text"),
    ],
)
def test_create_batch_refuses_a_bad_name_and_creates_nothing(
    alpha: Any, in_school: Any, name: str, message: str
) -> None:
    with in_school(alpha.school):
        with pytest.raises(ValidationError) as excinfo:
            create_batch(
                school=alpha.school,
                actor=alpha.owner,
                name=name,
                course_ids=[alpha.courses[0].pk],
                code_count=1,
            )
        assert message in excinfo.value.message_dict["name"][0]
        assert not AccessCodeBatch.objects.filter(school=alpha.school).exists()


def test_batch_page_marks_used_up_and_expired_codes(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=2, expires_at=timezone.now() + timedelta(days=1))
    used_code = new.codes[0]
    with in_school(alpha.school):
        redeem_code(school=alpha.school, student=alpha.student, raw_code=used_code)
    owner = logged_in(alpha, alpha.owner)
    page = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    assert sorted(re.findall(r'data-status="(\w+)"', page)) == ["active"] * 2 + ["used"] * 2

    with in_school(alpha.school):
        AccessCodeBatch.objects.filter(pk=new.batch.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    page = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    assert 'data-batch-status="expired"' in page
    assert sorted(re.findall(r'data-status="(\w+)"', page)) == ["expired"] * 2 + ["used"] * 2


def test_redeem_code_refuses_a_student_of_another_school(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    code = make_codes(alpha, in_school).codes[0]
    with in_school(alpha.school):
        with pytest.raises(PermissionDenied):
            redeem_code(school=alpha.school, student=bravo.student, raw_code=code)
        assert not Redemption.objects.filter(school=alpha.school).exists()
        assert set(
            AccessCode.objects.filter(school=alpha.school).values_list("uses_count", flat=True)
        ) == {0}
