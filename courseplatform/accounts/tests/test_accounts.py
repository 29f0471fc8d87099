"""Per-school accounts: signup, verification, login, rate limits, reset, roles, manage area.

Every test runs against two schools (``alpha`` and ``bravo``) so that each flow
is also proven not to leak across hosts. ORM reads of tenant rows happen inside
``in_school(...)`` because row-level security hides them otherwise.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client

from courseplatform.accounts import services
from courseplatform.accounts.models import User
from courseplatform.accounts.views import GENERIC_LOGIN_ERROR
from courseplatform.ops import ratelimit
from courseplatform.ops.models import AuditLog
from tests.fixtures.schools import PASSWORD, host_of

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"
NEW_PASSWORD = "another-strong-passphrase-77"


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the rate limiter's clock just after an hour boundary (every window used
    here divides an hour), so a fixed window never rolls over in the middle of a test."""
    start = int(time.time()) // 3600 * 3600 + 5
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: float(start)))


# --- helpers ------------------------------------------------------------------------


def _text(response: Any) -> str:
    return response.content.decode()


def _alert(html: str) -> str:
    """The non-field error box of a form page ("" when there is none)."""
    match = re.search(
        r'<div class="alert alert-error" role="alert">(.*?)</div>\s*</div>', html, re.DOTALL
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def _field_errors(html: str, field: str) -> str:
    """The inline error text under one form field ("" when it has none)."""
    match = re.search(rf'<div id="id_{field}_error">(.*?)</div>', html, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def _link_path(body: str, kind: str) -> str:
    """Path of the first ``/accounts/<kind>/...`` link in an email body."""
    match = re.search(rf"(https?://[^\s/]+)(/accounts/{kind}/[^\s]+/)", body)
    assert match, f"no {kind} link in email:\n{body}"
    return match.group(2)


def _login(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"email": email, "password": password}, **extra)


def _is_authenticated(response: Any) -> bool:
    return bool(response.wsgi_request.user.is_authenticated)


def _copy_cookies(source: Client, target: Client) -> None:
    target.cookies = SimpleCookie()
    for name, morsel in source.cookies.items():
        target.cookies[name] = morsel.value


def _logged_in(
    client_for: Callable[..., Client], host: str, email: str, password: str = PASSWORD
) -> Client:
    client = client_for(host)
    response = _login(client, email, password)
    assert response.status_code == 302, _alert(_text(response))
    return client


def _signup_data(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Sam Student", "email": "sam@example.com", "password": PASSWORD}
    data.update(overrides)
    return data


def _user(school: Any, in_school: Callable[[Any], Any], email: str) -> User | None:
    with in_school(school):
        return User.objects.filter(school=school, email=email).first()


# --- one email, two schools ----------------------------------------------------------


def test_same_email_is_two_separate_accounts_in_two_schools(
    school_a: Any, school_b: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    pw_a, pw_b = "alpha-only-passphrase-1", "bravo-only-passphrase-2"
    user_a = make_user(school_a.school, "Sam@Example.com", password=pw_a)
    user_b = make_user(school_b.school, "sam@example.com", password=pw_b)
    assert user_a.pk != user_b.pk
    assert user_a.email == user_b.email == "sam@example.com"
    assert (user_a.school_id, user_b.school_id) == (school_a.school.pk, school_b.school.pk)

    # Each password works only on its own school's host.
    for host, own, other in ((ALPHA, pw_a, pw_b), (BRAVO, pw_b, pw_a)):
        client = client_for(host)
        refused = _login(client, "sam@example.com", other)
        assert refused.status_code == 200 and not _is_authenticated(refused)
        assert str(GENERIC_LOGIN_ERROR) in _alert(_text(refused))
        accepted = _login(client, "sam@example.com", own)
        assert accepted.status_code == 302 and accepted["Location"] == "/"
        expected = user_a if host == ALPHA else user_b
        assert client.session["_auth_user_id"] == str(expected.pk)


def test_register_user_refuses_duplicate_email_in_the_same_school(
    school_a: Any, school_b: Any, in_school: Callable[[Any], Any]
) -> None:
    with in_school(school_a.school):
        with pytest.raises(ValidationError) as excinfo:
            services.register_user(
                school=school_a.school,
                email="OWNER@alpha.test",
                password=PASSWORD,
                full_name="Impostor",
            )
        assert excinfo.value.code == "duplicate_email"
        assert User.objects.filter(email="owner@alpha.test").count() == 1
    # The same address is free in another school.
    with in_school(school_b.school):
        user = services.register_user(
            school=school_b.school,
            email="owner@alpha.test",
            password=PASSWORD,
            full_name="Other Person",
        )
        assert user.school_id == school_b.school.pk


def test_signup_view_with_existing_email_is_generic_and_mails_the_owner_of_the_address(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    mailoutbox: list[Any],
) -> None:
    client = client_for(ALPHA)
    response = client.post(
        "/accounts/signup/", _signup_data(email="Owner@Alpha.test", full_name="Someone Else")
    )
    assert response.status_code == 200
    html = _text(response)
    alert = _alert(html)
    assert alert == str(services.SIGNUP_NOT_POSSIBLE)
    assert "exist" not in alert.lower()
    assert "already exists" not in html
    assert not _is_authenticated(response)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@alpha.test"]
    assert "Someone tried to create a new account" in mailoutbox[0].body
    with in_school(school_a.school):
        assert User.objects.filter(email="owner@alpha.test").count() == 1
        assert User.objects.count() == 1


# --- student signup and email verification -------------------------------------------


def test_student_signup_creates_logs_in_and_verification_link_works_once(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    mailoutbox: list[Any],
) -> None:
    client = client_for(ALPHA)
    response = client.post("/accounts/signup/", _signup_data(email="New.Student@Example.com"))
    assert response.status_code == 302 and response["Location"] == "/"

    user = _user(school_a.school, in_school, "new.student@example.com")
    assert user is not None and user.role == User.Role.STUDENT
    assert user.email_verified_at is None
    assert client.session["_auth_user_id"] == str(user.pk)
    with in_school(school_b.school):
        assert not User.objects.filter(email="new.student@example.com").exists()
    with in_school(school_a.school):
        assert AuditLog.objects.filter(action="account.signup", target_id=str(user.pk)).exists()

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.student@example.com"]
    link = re.search(r"https?://\S+/accounts/verify/\S+/", mail.body)
    assert link and urlsplit(link.group(0)).hostname == ALPHA
    path = _link_path(mail.body, "verify")

    # School A's token on school B's host: refused, and it does not burn the token.
    assert client_for(BRAVO).get(path).status_code == 400
    student = _user(school_a.school, in_school, "new.student@example.com")
    assert student is not None and student.email_verified_at is None

    verified = client_for(ALPHA).get(path)
    assert verified.status_code == 302 and verified["Location"] == "/"
    user = _user(school_a.school, in_school, "new.student@example.com")
    assert user is not None and user.email_verified_at is not None

    reused = client_for(ALPHA).get(path)
    assert reused.status_code == 400
    assert "not valid" in _text(reused)


def test_verification_link_with_garbage_token_or_uid_is_refused(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    client = client_for(ALPHA)
    assert client.get("/accounts/verify/Mg/not-a-token/").status_code == 400
    assert client.get("/accounts/verify/!!!/abc-def/").status_code == 400


# --- login ------------------------------------------------------------------------------


def test_login_redirects_owner_to_manage_and_student_home(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    make_user(school_a.school, "student@example.com")
    owner = _login(client_for(ALPHA), "OWNER@alpha.test")
    assert owner.status_code == 302 and owner["Location"] == "/manage/"
    student = _login(client_for(ALPHA), "student@example.com")
    assert student.status_code == 302 and student["Location"] == "/"


def test_login_errors_are_identical_for_unknown_wrong_and_other_schools_account(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    attempts = {
        "unknown email": ("nobody@alpha.test", PASSWORD),
        "wrong password": ("owner@alpha.test", "wrong-passphrase-123"),
        "other school's account": ("owner@bravo.test", PASSWORD),
    }
    alerts = {}
    for label, (email, password) in attempts.items():
        response = _login(client_for(ALPHA), email, password)
        assert response.status_code == 200, label
        assert not _is_authenticated(response), label
        alerts[label] = _alert(_text(response))
    assert set(alerts.values()) == {str(GENERIC_LOGIN_ERROR)}, alerts


def test_platform_staff_cannot_log_in_on_a_school_host(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    User.objects.create_superuser("staff@platform.test", PASSWORD)
    response = _login(client_for(ALPHA), "staff@platform.test")
    assert response.status_code == 200
    assert not _is_authenticated(response)
    assert _alert(_text(response)) == str(GENERIC_LOGIN_ERROR)


def test_school_a_session_replayed_on_school_b_or_platform_is_anonymous(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    alpha = _logged_in(client_for, ALPHA, "owner@alpha.test")
    assert alpha.get("/manage/").status_code == 200

    bravo = client_for(BRAVO)
    _copy_cookies(alpha, bravo)
    response = bravo.get("/manage/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not _is_authenticated(response)

    platform = client_for("localhost")
    _copy_cookies(alpha, platform)
    admin = platform.get("/admin/")
    assert admin.status_code == 302 and "/admin/login/" in admin["Location"]
    assert not _is_authenticated(admin)
    assert not admin.wsgi_request.user.is_staff


def test_logout_requires_post_and_ends_the_session(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = _logged_in(client_for, ALPHA, "owner@alpha.test")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/manage/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/manage/").status_code == 302


# --- rate limits -------------------------------------------------------------------------


def test_login_account_limit_blocks_even_the_right_password_then_other_accounts_work(
    school_a: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    settings: Any,
) -> None:
    assert settings.RATE_LIMIT_LOGIN_ACCOUNT == "5/900"
    make_user(school_a.school, "student@example.com")
    attacker = client_for(ALPHA, REMOTE_ADDR="203.0.113.5")
    for _ in range(5):
        response = _login(attacker, "owner@alpha.test", "wrong-passphrase-123")
        assert response.status_code == 200
    blocked = _login(attacker, "owner@alpha.test", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert not _is_authenticated(blocked)
    # The per-account lock holds from a fresh address too (case-insensitively).
    elsewhere = _login(client_for(ALPHA, REMOTE_ADDR="198.51.100.7"), "Owner@Alpha.test")
    assert elsewhere.status_code == 429

    other = _login(client_for(ALPHA, REMOTE_ADDR="198.51.100.8"), "student@example.com")
    assert other.status_code == 302

    with in_school(school_a.school):
        failed = AuditLog.objects.filter(action="account.login_failed", school=school_a.school)
        assert failed.count() == 5
        assert {entry.data["email"] for entry in failed} == {"owner@alpha.test"}
        assert {entry.ip for entry in failed} == {"203.0.113.5"}
        assert AuditLog.objects.filter(action="account.login_throttled").exists()


def test_login_account_limit_is_per_school(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    make_user(school_a.school, "sam@example.com")
    make_user(school_b.school, "sam@example.com")
    for _ in range(5):
        _login(client_for(ALPHA), "sam@example.com", "wrong-passphrase-123")
    assert _login(client_for(ALPHA), "sam@example.com").status_code == 429
    assert _login(client_for(BRAVO), "sam@example.com").status_code == 302


def test_login_ip_limit(school_a: Any, client_for: Callable[..., Client], settings: Any) -> None:
    settings.RATE_LIMIT_LOGIN_IP = "3/900"
    client = client_for(ALPHA, REMOTE_ADDR="203.0.113.9")
    for n in range(3):
        assert _login(client, f"nobody{n}@alpha.test").status_code == 200
    blocked = _login(client, "owner@alpha.test")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert (
        _login(client_for(ALPHA, REMOTE_ADDR="203.0.113.10"), "owner@alpha.test").status_code == 302
    )


def test_signup_ip_limit(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    settings: Any,
) -> None:
    settings.RATE_LIMIT_STUDENT_SIGNUP_IP = "2/3600"
    for n in range(2):
        response = client_for(ALPHA, REMOTE_ADDR="203.0.113.20").post(
            "/accounts/signup/", _signup_data(email=f"s{n}@example.com")
        )
        assert response.status_code == 302
    blocked = client_for(ALPHA, REMOTE_ADDR="203.0.113.20").post(
        "/accounts/signup/", _signup_data(email="s2@example.com")
    )
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert _user(school_a.school, in_school, "s2@example.com") is None
    other_ip = client_for(ALPHA, REMOTE_ADDR="203.0.113.21").post(
        "/accounts/signup/", _signup_data(email="s3@example.com")
    )
    assert other_ip.status_code == 302


def test_signup_a_class_of_forty_on_one_address_signs_up_and_other_schools_keep_their_budget(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    # Defaults: a school network (one public address) signs a whole class up in one go.
    for n in range(40):
        response = client_for(ALPHA, REMOTE_ADDR="198.51.100.7").post(
            "/accounts/signup/", _signup_data(email=f"pupil{n}@example.com")
        )
        assert response.status_code == 302, n
    assert _user(school_a.school, in_school, "pupil39@example.com") is not None
    # The address's budget is per school: the class does not use up another school's.
    elsewhere = client_for(BRAVO, REMOTE_ADDR="198.51.100.7").post(
        "/accounts/signup/", _signup_data(email="pupil0@example.com")
    )
    assert elsewhere.status_code == 302


# --- password reset --------------------------------------------------------------------


def _normalised(html: str, email: str) -> str:
    # Masked CSRF tokens differ per response; the echoed address differs by design.
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", html).replace(email, "EMAIL")


def test_password_reset_request_answers_the_same_for_known_and_unknown_email(
    school_a: Any, client_for: Callable[..., Client], mailoutbox: list[Any]
) -> None:
    known = client_for(ALPHA).post("/accounts/password-reset/", {"email": "owner@alpha.test"})
    unknown = client_for(ALPHA).post("/accounts/password-reset/", {"email": "nobody@alpha.test"})
    assert known.status_code == unknown.status_code == 200
    assert _normalised(_text(known), "owner@alpha.test") == _normalised(
        _text(unknown), "nobody@alpha.test"
    )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["owner@alpha.test"]


def test_password_reset_link_sets_new_password_once(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    mailoutbox: list[Any],
) -> None:
    client_for(ALPHA).post("/accounts/password-reset/", {"email": "owner@alpha.test"})
    path = _link_path(mailoutbox[0].body, "password-reset")
    link = re.search(r"https?://\S+", mailoutbox[0].body)
    assert link is not None and urlsplit(link.group(0)).hostname == ALPHA

    # School A's link on school B's host.
    assert client_for(BRAVO).get(path).status_code == 400
    assert client_for(BRAVO).post(path, {"password": NEW_PASSWORD}).status_code == 400

    client = client_for(ALPHA)
    assert client.get(path).status_code == 200

    weak = client.post(path, {"password": "123"})
    assert weak.status_code == 200
    assert _field_errors(_text(weak), "password")
    with in_school(school_a.school):
        assert User.objects.get(email="owner@alpha.test").check_password(PASSWORD)

    done = client.post(path, {"password": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    with in_school(school_a.school):
        owner = User.objects.get(email="owner@alpha.test")
        assert owner.check_password(NEW_PASSWORD)
        assert AuditLog.objects.filter(action="account.password_reset").exists()

    assert _login(client_for(ALPHA), "owner@alpha.test", PASSWORD).status_code == 200
    assert _login(client_for(ALPHA), "owner@alpha.test", NEW_PASSWORD).status_code == 302
    # Bravo's owner is untouched.
    assert _login(client_for(BRAVO), "owner@bravo.test", PASSWORD).status_code == 302

    reused = client_for(ALPHA).get(path)
    assert reused.status_code == 400
    assert client_for(ALPHA).post(path, {"password": "yet-another-passphrase-9"}).status_code == 400
    with in_school(school_a.school):
        assert User.objects.get(email="owner@alpha.test").check_password(NEW_PASSWORD)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": "x" * 121}, "full_name"),
        ({"full_name": ""}, "full_name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"password": "123"}, "password"),
        ({"password": "sam@example.com"}, "password"),
    ],
)
def test_signup_bad_input_shows_field_error_and_creates_nothing(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    mailoutbox: list[Any],
    overrides: dict[str, str],
    field: str,
) -> None:
    response = client_for(ALPHA).post("/accounts/signup/", _signup_data(**overrides))
    assert response.status_code == 200
    assert _field_errors(_text(response), field), _text(response)
    assert not _is_authenticated(response)
    assert mailoutbox == []
    with in_school(school_a.school):
        assert User.objects.count() == 1  # just the owner


def test_login_post_without_csrf_token_is_refused_and_changes_nothing(
    school_a: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    client = client_for(ALPHA, enforce_csrf_checks=True)
    response = _login(client, "owner@alpha.test")
    assert response.status_code == 403
    assert not _is_authenticated(response)
    signup = client.post("/accounts/signup/", _signup_data())
    assert signup.status_code == 403
    with in_school(school_a.school):
        owner = User.objects.get(email="owner@alpha.test")
        assert owner.last_login is None
        assert User.objects.count() == 1
        assert not AuditLog.objects.filter(action__startswith="account.").exists()

    # With the token from the form the same client logs in.
    page = client.get("/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _text(page))
    assert found is not None
    token = found.group(1)
    ok = client.post(
        "/accounts/login/",
        {"email": "owner@alpha.test", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert ok.status_code == 302


def test_login_ignores_offsite_next(school_a: Any, client_for: Callable[..., Client]) -> None:
    response = client_for(ALPHA).post(
        "/accounts/login/?next=https://evil.example/",
        {"email": "owner@alpha.test", "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/manage/"
    response = client_for(ALPHA).post(
        "/accounts/login/",
        {"email": "owner@alpha.test", "password": PASSWORD, "next": "//bravo.localhost/manage/"},
    )
    assert response["Location"] == "/manage/"


# --- roles ------------------------------------------------------------------------------


def test_change_role_by_owner_is_applied_and_audited(
    school_a: Any, make_user: Callable[..., Any], in_school: Callable[[Any], Any]
) -> None:
    student = make_user(school_a.school, "student@example.com")
    with in_school(school_a.school):
        services.change_role(
            school=school_a.school, actor=school_a.owner, user=student, role=User.Role.INSTRUCTOR
        )
        assert User.objects.get(pk=student.pk).role == User.Role.INSTRUCTOR
        entry = AuditLog.objects.get(action="account.role_changed")
        assert entry.actor_id == school_a.owner.pk
        assert entry.target_id == str(student.pk)
        assert entry.data == {"from": "student", "to": "instructor"}


def test_change_role_by_student_is_refused(
    school_a: Any, make_user: Callable[..., Any], in_school: Callable[[Any], Any]
) -> None:
    student = make_user(school_a.school, "student@example.com")
    other = make_user(school_a.school, "other@example.com")
    with in_school(school_a.school):
        with pytest.raises(PermissionDenied):
            services.change_role(
                school=school_a.school, actor=student, user=other, role=User.Role.OWNER
            )
        with pytest.raises(PermissionDenied):
            services.change_role(
                school=school_a.school, actor=student, user=student, role=User.Role.OWNER
            )
        assert User.objects.get(pk=other.pk).role == User.Role.STUDENT
        assert User.objects.get(pk=student.pk).role == User.Role.STUDENT
        assert not AuditLog.objects.filter(action="account.role_changed").exists()


def test_change_role_on_another_schools_user_is_refused(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    in_school: Callable[[Any], Any],
) -> None:
    foreign = make_user(school_b.school, "student@example.com")
    with in_school(school_a.school):
        with pytest.raises(Http404):  # another school's person: not found, never forbidden
            services.change_role(
                school=school_a.school,
                actor=school_a.owner,
                user=foreign,
                role=User.Role.INSTRUCTOR,
            )
    with in_school(school_b.school):
        assert User.objects.get(pk=foreign.pk).role == User.Role.STUDENT
        assert not AuditLog.objects.filter(action="account.role_changed").exists()


def test_change_role_by_another_schools_owner_is_refused(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    in_school: Callable[[Any], Any],
) -> None:
    # School B named as the school, but the actor is school A's owner.
    target = make_user(school_b.school, "student@example.com")
    with in_school(school_b.school):
        with pytest.raises(PermissionDenied):
            services.change_role(
                school=school_b.school, actor=school_a.owner, user=target, role=User.Role.OWNER
            )
        assert User.objects.get(pk=target.pk).role == User.Role.STUDENT
        assert not AuditLog.objects.filter(action="account.role_changed").exists()


def test_owner_cannot_demote_themselves(school_a: Any, in_school: Callable[[Any], Any]) -> None:
    with in_school(school_a.school):
        with pytest.raises(services.AccountError):
            services.change_role(
                school=school_a.school,
                actor=school_a.owner,
                user=school_a.owner,
                role=User.Role.STUDENT,
            )
        assert User.objects.get(pk=school_a.owner.pk).role == User.Role.OWNER


# --- manage area ------------------------------------------------------------------------


def test_manage_requires_login(school_a: Any, client_for: Callable[..., Client]) -> None:
    for path in ("/manage/", "/manage/students/"):
        response = client_for(ALPHA).get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_manage_is_forbidden_to_students(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    make_user(school_a.school, "student@example.com")
    client = _logged_in(client_for, ALPHA, "student@example.com")
    assert client.get("/manage/").status_code == 403
    assert client.get("/manage/students/").status_code == 403


def test_manage_dashboard_shows_plan_usage_to_owner(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    make_user(school_a.school, "student@example.com")
    client = _logged_in(client_for, ALPHA, "owner@alpha.test")
    response = client.get("/manage/")
    assert response.status_code == 200
    html = _text(response)
    assert "Plan usage" in html
    assert "Free" in html
    usage = {item.label: item for item in response.context["usage"]}
    assert usage["Students"].used == 1
    assert usage["Students"].limit == school_a.school.plan.max_students


def test_manage_people_lists_only_own_school(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    make_user(school_a.school, "alice@example.com")
    make_user(school_b.school, "bob-in-bravo@example.com")
    client = _logged_in(client_for, ALPHA, "owner@alpha.test")
    response = client.get("/manage/students/")
    assert response.status_code == 200
    html = _text(response)
    assert "alice@example.com" in html and "owner@alpha.test" in html
    assert "bob-in-bravo@example.com" not in html
    assert "owner@bravo.test" not in html
    assert {p.email for p in response.context["people"]} == {
        "alice@example.com",
        "owner@alpha.test",
    }


def test_host_of_helper_matches_constants(school_a: Any, school_b: Any) -> None:
    assert (host_of(school_a.school), host_of(school_b.school)) == (ALPHA, BRAVO)
