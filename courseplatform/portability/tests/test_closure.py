"""Closing a school from its settings: typed confirmation, password, audit, email; the
closing page for everyone but the owner; cancelling; the closed page after the grace
period; two schools."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.ops.models import AuditLog
from courseplatform.portability import closure
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD, host_of

pytestmark = pytest.mark.django_db

CLOSE = "/manage/settings/close/"
CANCEL = "/manage/settings/close/cancel/"


def signed_in(school: Any, user: Any) -> Client:
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(user)
    return client


def fresh(school: School) -> School:
    with school_context(school):
        return School.objects.get(pk=school.pk)


def actions(school: School) -> list[str]:
    with school_context(school):
        return list(
            AuditLog.objects.filter(school=school, action__startswith="school.closure")
            .order_by("id")
            .values_list("action", flat=True)
        )


def test_owner_closes_the_school_with_slug_and_password(
    school_a: Any, make_user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SCHOOL_DELETION_GRACE_DAYS = 30
    school, owner = school_a.school, school_a.owner
    student = make_user(school, "stu@alpha.test")
    owner_client = signed_in(school, owner)
    page = owner_client.get(CLOSE)
    assert page.status_code == 200
    assert b"Close Alpha Academy" in page.content
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(CLOSE, {"confirm_slug": " Alpha ", "password": PASSWORD})
    assert response.status_code == 302
    school = fresh(school)
    assert school.is_closing and not school.purge_due
    assert school.purge_after is not None
    assert timedelta(days=29, hours=23) < school.purge_after - before < timedelta(days=30, hours=1)
    assert actions(school) == ["school.closure_requested"]
    [email] = mail.outbox
    assert email.to == [owner.email] and "closing" in email.subject
    assert "/manage/settings/close/" in email.body

    # Students and visitors get the closing page on every path, the API too.
    visitor = Client(HTTP_HOST=host_of(school))
    for path in ("/", "/courses/", "/redeem/", "/accounts/signup/", "/manage/"):
        answer = visitor.get(path)
        assert answer.status_code == 503, path
        assert b"is closing" in answer.content
    assert visitor.get("/api/v1/courses").status_code == 503
    assert signed_in(school, student).get("/my/").status_code == 503
    # The owner still signs in, sees the closure and the export.
    assert visitor.get("/accounts/login/").status_code == 200
    login = visitor.post(
        "/accounts/login/?next=/manage/settings/close/",
        {"email": owner.email, "password": PASSWORD},
    )
    assert login.status_code == 302 and login["Location"] == CLOSE
    closing = visitor.get(CLOSE)
    assert closing.status_code == 200
    assert b"Cancel the closure" in closing.content
    assert b"Export the whole school" in closing.content
    # A student who signs in is still shown the closing page.
    assert signed_in(school, student).get(CLOSE).status_code == 403


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"confirm_slug": "alpha-x", "password": PASSWORD}, b"Type the school&#x27;s address"),
        ({"confirm_slug": "bravo", "password": PASSWORD}, b"Type the school&#x27;s address"),
        ({"confirm_slug": "alpha", "password": "wrong-password-123"}, b"password is not right"),
        ({"confirm_slug": "alpha"}, b"This field is required"),
        ({"confirm_slug": "a" * 500, "password": PASSWORD}, b"at most 60 characters"),
        ({}, b"This field is required"),
    ],
)
def test_bad_confirmation_changes_nothing(
    school_a: Any, form: dict[str, str], message: bytes
) -> None:
    client = signed_in(school_a.school, school_a.owner)
    response = client.post(CLOSE, form)
    assert response.status_code == 400
    assert message in response.content
    assert not fresh(school_a.school).is_closing
    assert actions(school_a.school) == []
    assert Client(HTTP_HOST=host_of(school_a.school)).get("/").status_code == 200


def test_wrong_passwords_are_rate_limited(school_a: Any, settings: Any) -> None:
    settings.RATE_LIMIT_LOGIN_ACCOUNT = "2/900"
    client = signed_in(school_a.school, school_a.owner)
    for _ in range(2):
        client.post(CLOSE, {"confirm_slug": "alpha", "password": "not-it-at-all"})
    # Even the right password is refused now: guessing stops here.
    response = client.post(CLOSE, {"confirm_slug": "alpha", "password": PASSWORD})
    assert response.status_code == 400
    assert b"Too many wrong passwords" in response.content
    assert not fresh(school_a.school).is_closing


def test_only_the_owner_may_close_or_cancel(school_a: Any, make_user: Any) -> None:
    school = school_a.school
    instructor = make_user(school, "ina@alpha.test", role=User.Role.INSTRUCTOR)
    student = make_user(school, "stu@alpha.test")
    form = {"confirm_slug": "alpha", "password": PASSWORD}
    assert signed_in(school, instructor).post(CLOSE, form).status_code == 403
    assert signed_in(school, student).post(CLOSE, form).status_code == 403
    anonymous = Client(HTTP_HOST=host_of(school)).post(CLOSE, form)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not fresh(school).is_closing
    with school_context(school):
        closure.request_closure(
            school=school, actor=school_a.owner, confirm_slug="alpha", password=PASSWORD
        )
    assert signed_in(school, instructor).post(CANCEL).status_code == 403
    assert fresh(school).is_closing


def test_another_schools_owner_cannot_close_or_cancel(school_a: Any, school_b: Any) -> None:
    a, b = school_a.school, school_b.school
    # B's owner on A's host is not signed in there (sessions are per school).
    intruder = Client(HTTP_HOST=host_of(a))
    with school_context(b):
        intruder.force_login(school_b.owner)
    response = intruder.post(CLOSE, {"confirm_slug": "alpha", "password": PASSWORD})
    assert response.status_code in (302, 403)
    assert not fresh(a).is_closing
    # Confirming with A's slug on B's own host closes nothing of A (and not B either).
    own = signed_in(b, school_b.owner)
    assert own.post(CLOSE, {"confirm_slug": "alpha", "password": PASSWORD}).status_code == 400
    assert not fresh(a).is_closing and not fresh(b).is_closing
    # The service refuses another school's owner outright.
    with school_context(a), pytest.raises(Exception, match="Only the owner"):
        closure.request_closure(
            school=a, actor=school_b.owner, confirm_slug="alpha", password=PASSWORD
        )
    # A closing A leaves B serving.
    with school_context(a):
        closure.request_closure(
            school=a, actor=school_a.owner, confirm_slug="alpha", password=PASSWORD
        )
    assert Client(HTTP_HOST=host_of(b)).get("/").status_code == 200
    assert Client(HTTP_HOST=host_of(a)).get("/").status_code == 503
    # B's owner cannot cancel A's closure from A's host either.
    response = intruder.post(CANCEL)
    assert response.status_code in (302, 403)
    assert fresh(a).is_closing


def test_cancelling_restores_service(
    school_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    school = school_a.school
    client = signed_in(school, school_a.owner)
    client.post(CLOSE, {"confirm_slug": "alpha", "password": PASSWORD})
    visitor = Client(HTTP_HOST=host_of(school))
    assert visitor.get("/").status_code == 503
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CANCEL)
    assert response.status_code == 302 and response["Location"] == "/manage/settings/"
    assert not fresh(school).is_closing
    assert visitor.get("/").status_code == 200
    assert client.get("/manage/").status_code == 200
    assert actions(school) == ["school.closure_requested", "school.closure_cancelled"]
    assert "open again" in mail.outbox[-1].subject
    # Cancelling what is not closing changes nothing.
    again = client.post(CANCEL)
    assert again.status_code == 302
    assert actions(school) == ["school.closure_requested", "school.closure_cancelled"]
    # The form is offered again.
    assert b"Close Alpha Academy" in client.get(CLOSE).content


def test_after_the_grace_period_no_one_is_served(school_a: Any, settings: Any) -> None:
    settings.SCHOOL_DELETION_GRACE_DAYS = 0
    school = school_a.school
    client = signed_in(school, school_a.owner)
    client.post(CLOSE, {"confirm_slug": "alpha", "password": PASSWORD})
    assert fresh(school).purge_due
    for path in ("/", CLOSE, "/manage/settings/export/", "/accounts/login/"):
        answer = client.get(path)
        assert answer.status_code == 410, path
        assert b"has closed" in answer.content
    assert client.post(CANCEL).status_code == 410
    with school_context(school), pytest.raises(closure.ClosureError, match="grace period"):
        closure.cancel_closure(school=school, actor=school_a.owner)


def test_settings_page_links_to_export_and_close(school_a: Any, make_user: Any) -> None:
    page = signed_in(school_a.school, school_a.owner).get("/manage/settings/")
    assert b'href="/manage/settings/close/"' in page.content
    assert b'href="/manage/settings/export/"' in page.content
    instructor = make_user(school_a.school, "ina@alpha.test", role=User.Role.INSTRUCTOR)
    other = signed_in(school_a.school, instructor).get("/manage/settings/")
    assert b'href="/manage/settings/close/"' not in other.content
