"""Account paths the main flow tests pass by: one-time login links, signed-in visitors
on the login and signup pages, the reset-request limit, and role changes refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import signing
from django.test import Client

from courseplatform.accounts import services
from courseplatform.accounts.models import LoginLink, User
from courseplatform.accounts.tokens import email_verification_token
from courseplatform.ops import ratelimit
from courseplatform.ops.models import AuditLog
from tests.fixtures.schools import PASSWORD

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the limiter's clock just after an hour boundary so no window rolls over."""
    start = int(time.time()) // 3600 * 3600 + 5
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: float(start)))


def _login_path(school: Any, user: User) -> str:
    url = services.issue_login_link(school=school, user=user)
    return "/" + url.split("/", 3)[3]


def _flashed(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_login_link_view_signs_in_once_then_refuses(
    school_a: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    school, owner = school_a.school, school_a.owner
    with in_school(school):
        path = _login_path(school, owner)

    client = client_for(ALPHA)
    used = client.get(path)
    assert used.status_code == 302 and used["Location"] == "/manage/"
    assert used.wsgi_request.user.pk == owner.pk
    with in_school(school):
        assert LoginLink.objects.get(school=school, user=owner).used_at is not None
        assert AuditLog.objects.filter(action="account.login_link_used").count() == 1

    again = client_for(ALPHA).get(path)
    assert again.status_code == 400
    assert "already been used or has expired" in again.content.decode()
    assert not again.wsgi_request.user.is_authenticated


def test_consume_login_link_refuses_tampered_foreign_expired_and_disabled_links(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    in_school: Callable[[Any], Any],
    settings: Any,
) -> None:
    school, owner = school_a.school, school_a.owner
    with in_school(school):
        token = _login_path(school, owner).rstrip("/").rsplit("/", 1)[1]

        with pytest.raises(services.AccountError, match="not valid"):
            services.consume_login_link(school=school, token=token + "x")
        not_a_dict = signing.dumps(["x"], salt=services.LOGIN_LINK_SALT)
        with pytest.raises(services.AccountError, match="not valid"):
            services.consume_login_link(school=school, token=not_a_dict)
        with pytest.raises(services.AccountError, match="No such user"):
            services.issue_login_link(school=school, user=school_b.owner)

    with in_school(school_b.school), pytest.raises(services.AccountError, match="not valid"):
        services.consume_login_link(school=school_b.school, token=token)

    settings.LOGIN_LINK_MAX_AGE = -1
    with in_school(school), pytest.raises(services.AccountError, match="expired"):
        services.consume_login_link(school=school, token=token)
    settings.LOGIN_LINK_MAX_AGE = 60

    student = make_user(school, "gone@alpha.test")
    with in_school(school):
        disabled_token = _login_path(school, student).rstrip("/").rsplit("/", 1)[1]
        User.objects.filter(pk=student.pk).update(is_active=False)
        with pytest.raises(services.AccountError, match="disabled"):
            services.consume_login_link(school=school, token=disabled_token)
        # The refusal rolled back: the link is still unused, and the owner's link too.
        assert LoginLink.objects.filter(school=school, used_at__isnull=True).count() == 2
        assert not AuditLog.objects.filter(action="account.login_link_used").exists()


def test_login_and_signup_pages_send_a_signed_in_person_on(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    make_user(school_a.school, "sam@alpha.test")
    student = client_for(ALPHA)
    assert student.post("/accounts/login/", {"email": "sam@alpha.test", "password": PASSWORD})
    login_page = student.get("/accounts/login/")
    assert login_page.status_code == 302 and login_page["Location"] == "/"
    signup_page = student.get("/accounts/signup/")
    assert signup_page.status_code == 302 and signup_page["Location"] == "/"

    owner = client_for(ALPHA)
    owner.post("/accounts/login/", {"email": "owner@alpha.test", "password": PASSWORD})
    assert owner.get("/accounts/login/")["Location"] == "/manage/"
    assert owner.get("/accounts/login/?next=/courses/")["Location"] == "/courses/"


def test_login_with_malformed_email_counts_as_a_failure(
    school_a: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    response = client_for(ALPHA).post("/accounts/login/", {"email": "not-an-email", "password": ""})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    with in_school(school_a.school):
        assert AuditLog.objects.filter(action="account.login_failed").count() == 1


def test_password_reset_request_bad_email_and_limit(
    school_a: Any, client_for: Callable[..., Client], settings: Any, mailoutbox: list[Any]
) -> None:
    settings.RATE_LIMIT_RESET_IP = "2/3600"
    client = client_for(ALPHA)
    bad = client.post("/accounts/password-reset/", {"email": "not-an-email"})
    assert bad.status_code == 200 and 'id="id_email_error"' in bad.content.decode()
    sent = client.post("/accounts/password-reset/", {"email": "owner@alpha.test"})
    assert sent.status_code == 200
    limited = client.post("/accounts/password-reset/", {"email": "owner@alpha.test"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert len(mailoutbox) == 1


def test_change_person_role_unknown_role_and_missing_person(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    student = make_user(school_a.school, "sam@alpha.test")
    owner = client_for(ALPHA)
    owner.post("/accounts/login/", {"email": "owner@alpha.test", "password": PASSWORD})

    refused = owner.post(f"/manage/students/{student.pk}/role/", {"role": "admiral"})
    assert refused.status_code == 302
    assert _flashed(refused) == ["Unknown role."]
    foreign = owner.post(f"/manage/students/{school_b.owner.pk}/role/", {"role": "student"})
    assert foreign.status_code == 404
    with in_school(school_a.school):
        assert User.objects.get(pk=student.pk).role == User.Role.STUDENT
    with in_school(school_b.school):
        assert User.objects.get(pk=school_b.owner.pk).role == User.Role.OWNER


def test_reset_password_service_refuses_a_bad_token(
    school_a: Any, in_school: Callable[[Any], Any]
) -> None:
    with in_school(school_a.school):
        with pytest.raises(services.AccountError, match="invalid or has expired"):
            services.reset_password(
                school=school_a.school, user=school_a.owner, token="1-x", password="x" * 20
            )
        assert User.objects.get(pk=school_a.owner.pk).check_password(PASSWORD)


def test_verify_email_again_with_a_fresh_token_keeps_the_first_time(
    school_a: Any, make_user: Callable[..., Any], in_school: Callable[[Any], Any]
) -> None:
    school = school_a.school
    student = make_user(school, "sam@alpha.test")
    with in_school(school):
        assert services.verify_email(
            school=school, user=student, token=email_verification_token.make_token(student)
        )
        first = User.objects.get(pk=student.pk).email_verified_at
        assert first is not None
        again = User.objects.get(pk=student.pk)
        assert services.verify_email(
            school=school, user=again, token=email_verification_token.make_token(again)
        )
        assert User.objects.get(pk=student.pk).email_verified_at == first
        assert AuditLog.objects.filter(action="account.email_verified").count() == 1
