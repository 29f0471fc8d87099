"""Redeeming a code whose only course is still a draft (a batch made ahead of the
launch): the student is enrolled and sent to their own course list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from courseplatform.courses.services import create_course

from .test_redeem import enrolled_ids, flashed, logged_in, make_codes, setup_school

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(school_a: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_a, in_school, make_user)


def test_redeem_view_code_for_a_draft_course_enrols_and_opens_my_courses(
    alpha: Any, in_school: Any
) -> None:
    with in_school(alpha.school):
        draft = create_course(school=alpha.school, actor=alpha.owner, title="Autumn Sketching")
    code = make_codes(alpha, in_school, courses=[draft]).codes[0]

    response = logged_in(alpha, alpha.student).post("/redeem/", {"code": code})
    assert response.status_code == 302
    my_courses = reverse("courses:my_courses", urlconf="courseplatform.urls.school")
    assert response["Location"] == my_courses
    assert flashed(response) == ["Code accepted! You're now enrolled in “Autumn Sketching”."]
    assert enrolled_ids(alpha, in_school, alpha.student) == {draft.pk}
