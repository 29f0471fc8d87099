"""The redeem flow on a school's custom domain: signed out → sign up → redeemed, with
every redirect staying on the custom host (no open redirect through ``next``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from courseplatform.courses.models import Enrollment
from tests.fixtures.custom_domains import serving_domain
from tests.fixtures.schools import PASSWORD

from .test_redeem import alpha, bravo, make_codes  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.school_plan("premium")]

HOST = "learn.alpha-brand.test"


def _serve_on_custom_domain(env: Any) -> None:
    serving_domain(env.school, HOST)


def test_redeem_signed_out_through_signup_on_the_custom_domain(
    alpha: Any,  # noqa: F811
    in_school: Callable[..., Any],
) -> None:
    _serve_on_custom_domain(alpha)
    code = make_codes(alpha, in_school).codes[0]
    client = Client(HTTP_HOST=HOST)
    sent = client.post("/redeem/", {"code": code})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/signup/?next=/redeem/"
    joined = client.post(
        "/accounts/signup/?next=/redeem/",
        {
            "full_name": "New Student",
            "email": "new@alpha.test",
            "password": PASSWORD,
            "next": "/redeem/",
        },
    )
    assert joined.status_code == 302 and joined["Location"] == "/redeem/"
    done = client.get("/redeem/")
    assert done.status_code == 302
    assert done["Location"] == f"/courses/{alpha.courses[0].slug}/"
    with in_school(alpha.school):
        enrolled = Enrollment.objects.filter(school=alpha.school, student__email="new@alpha.test")
        assert {e.course_id for e in enrolled} == {c.pk for c in alpha.courses}


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http://alpha.localhost/",  # the school's other host is "another host" here too
        "javascript:alert(1)",
    ],
)
def test_login_on_the_custom_domain_never_follows_a_hostile_next(
    alpha: Any,  # noqa: F811
    hostile: str,
) -> None:
    _serve_on_custom_domain(alpha)
    client = Client(HTTP_HOST=HOST)
    response = client.post(
        f"/accounts/login/?next={hostile}",
        {"email": alpha.student.email, "password": PASSWORD, "next": hostile},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"  # the student's landing page on this host
    assert client.get("/my/").status_code == 200  # signed in on the custom domain


def test_an_account_of_another_school_cannot_log_in_on_the_custom_domain(
    alpha: Any,  # noqa: F811
    bravo: Any,  # noqa: F811
) -> None:
    _serve_on_custom_domain(alpha)
    client = Client(HTTP_HOST=HOST)
    response = client.post("/accounts/login/", {"email": bravo.student.email, "password": PASSWORD})
    assert response.status_code == 200  # the form again
    assert "The email or password is incorrect." in response.content.decode()
