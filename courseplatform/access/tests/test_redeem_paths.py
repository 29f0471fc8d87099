"""Redeeming a code whose only course is still a draft (a batch made ahead of the
launch): the student is enrolled and sent to their own course list. A code kept
across sign-in that can no longer be decrypted is dropped, not redeemed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from courseplatform.access.views import PENDING_KEY
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


def test_redeem_page_drops_a_kept_code_it_cannot_decrypt(alpha: Any, in_school: Any) -> None:
    client = logged_in(alpha, alpha.student)
    session = client.session
    session[PENDING_KEY] = {"code": "not-a-sealed-code", "submitted": True, "at": int(time.time())}
    session.save()

    page = client.get("/redeem/")
    assert page.status_code == 200
    code_input = re.search(r'<input[^>]*name="code"[^>]*>', page.content.decode())
    assert code_input is not None and 'value="' not in code_input.group(0)
    assert PENDING_KEY not in client.session
    assert enrolled_ids(alpha, in_school, alpha.student) == set()
