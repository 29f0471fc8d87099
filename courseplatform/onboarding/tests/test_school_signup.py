"""One-click school signup on the platform host, login links, createschool, operator console."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from io import StringIO
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.management import CommandError, call_command
from django.test import Client

from courseplatform.accounts.models import LoginLink, User
from courseplatform.accounts.services import issue_login_link
from courseplatform.ops import ratelimit
from courseplatform.ops.models import AuditLog
from courseplatform.sites.models import Page, Theme
from courseplatform.tenancy.models import Plan, School

pytestmark = pytest.mark.django_db

PLATFORM = "localhost"
PASSWORD = "a-long-test-passphrase-42"
LINK_RE = re.compile(
    r"^http://(?P<host>[a-z0-9-]+\.localhost)(?::\d+)?"
    r"(?P<path>/accounts/login-link/[^/]+/)$"
)


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the rate limiter's clock just after an hour boundary (every window used
    here divides an hour), so a fixed window never rolls over in the middle of a test."""
    start = int(time.time()) // 3600 * 3600 + 5
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: float(start)))


def _text(response: Any) -> str:
    return response.content.decode()


def _field_errors(html: str, field: str) -> str:
    # The partial renders <div id="id_<field>_error">; the subdomain field a <p> of its own.
    match = re.search(rf'<(div|p)\b[^>]*\bid="id_{field}_error"[^>]*>(.*?)</\1>', html, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip() if match else ""


def _signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "password": PASSWORD,
        "school_name": "Analytical Engines",
        "subdomain": "engines",
    }
    data.update(overrides)
    return data


def _signup(client_for: Callable[..., Client], **overrides: str) -> Any:
    return client_for(PLATFORM).post("/signup/", _signup_data(**overrides))


def _link_for(school: Any, user: Any, in_school: Callable[[Any], Any]) -> str:
    """Path of a fresh login link for ``user`` on ``school``'s host."""
    with in_school(school):
        url = issue_login_link(school=school, user=user, port="")
    match = LINK_RE.match(url)
    assert match and match["host"] == f"{school.slug}.localhost", url
    return match["path"]


def _is_authenticated(response: Any) -> bool:
    return bool(response.wsgi_request.user.is_authenticated)


# --- signup on the platform host ---------------------------------------------------


def test_school_signup_creates_school_and_logs_owner_in_via_link(
    client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    response = _signup(client_for)
    assert response.status_code == 302
    match = LINK_RE.match(response["Location"])
    assert match, response["Location"]
    assert match["host"] == "engines.localhost"
    assert urlsplit(response["Location"]).port is None  # request came without a port

    school_client = client_for(match["host"])
    login = school_client.get(match["path"])
    assert login.status_code == 302 and login["Location"] == "/manage/"
    dashboard = school_client.get("/manage/")
    assert dashboard.status_code == 200
    assert "Plan usage" in _text(dashboard)
    assert getattr(dashboard.wsgi_request.user, "email", None) == "ada@example.com"

    school = School.objects.get(slug="engines")
    assert school.name == "Analytical Engines"
    assert school.plan.code == Plan.FREE
    assert school.is_active
    with in_school(school):
        owner = User.objects.get(school=school)
        assert owner.email == "ada@example.com"
        assert owner.role == User.Role.OWNER
        assert owner.full_name == "Ada Lovelace"
        assert owner.check_password(PASSWORD)
        assert Theme.objects.filter(school=school).count() == 1
        home = Page.objects.get(school=school, is_home=True)
        assert home.status == Page.Status.PUBLISHED
        created = AuditLog.objects.get(action="school.created")
        assert created.target_id == str(school.pk)
        assert created.actor_id == owner.pk
        assert created.data == {"slug": "engines", "plan": "free", "language": "en"}
        assert LoginLink.objects.get(user=owner).used_at is not None

    # The school's public home page answers on its host.
    assert client_for("engines.localhost").get("/").status_code == 200


def test_school_signup_keeps_port_of_the_request(client_for: Callable[..., Client]) -> None:
    response = client_for("localhost:8000").post("/signup/", _signup_data())
    assert response.status_code == 302
    assert response["Location"].startswith("http://engines.localhost:8000/accounts/login-link/")


def test_school_signup_page_renders(client_for: Callable[..., Client]) -> None:
    response = client_for(PLATFORM).get("/signup/")
    assert response.status_code == 200
    assert 'name="subdomain"' in _text(response)


# --- login links ----------------------------------------------------------------------


def test_login_link_is_single_use(
    school_a: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    path = _link_for(school_a.school, school_a.owner, in_school)
    assert client_for("alpha.localhost").get(path).status_code == 302
    again = client_for("alpha.localhost").get(path)
    assert again.status_code == 400
    assert "already been used" in _text(again)
    assert not _is_authenticated(again)


def test_login_link_expires_after_max_age(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    assert settings.LOGIN_LINK_MAX_AGE == 60
    path = _link_for(school_a.school, school_a.owner, in_school)
    real_time = time.time
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: real_time() + 61))
    response = client_for("alpha.localhost").get(path)
    assert response.status_code == 400
    html = _text(response)
    assert "expired" in html and "already been used" not in html
    assert not _is_authenticated(response)
    with in_school(school_a.school):
        assert LoginLink.objects.get().used_at is None


def test_login_link_expired_row_is_refused_even_with_valid_signature(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    path = _link_for(school_a.school, school_a.owner, in_school)
    # The stored row can lapse before the signature does (e.g. a shortened max age).
    with in_school(school_a.school):
        LoginLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for("alpha.localhost").get(path)
    assert response.status_code == 400
    assert not _is_authenticated(response)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "x" + token,
        lambda token: token.split(":")[0],
        lambda token: "not-a-token",
    ],
    ids=["signature", "payload", "unsigned", "garbage"],
)
def test_forged_login_link_is_refused(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    tamper: Callable[[str], str],
) -> None:
    path = _link_for(school_a.school, school_a.owner, in_school)
    token = path.rstrip("/").rsplit("/", 1)[1]
    response = client_for("alpha.localhost").get(f"/accounts/login-link/{tamper(token)}/")
    assert response.status_code == 400
    assert "not valid" in _text(response)
    assert not _is_authenticated(response)


def test_forged_payload_signed_with_wrong_school_or_nonce_is_refused(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    from courseplatform.accounts.services import LOGIN_LINK_SALT

    # Even a correctly signed token (say, a leaked key) needs a stored, unused nonce.
    token = signing.dumps(
        {"s": school_a.school.pk, "u": school_a.owner.pk, "n": "guess"},
        salt=LOGIN_LINK_SALT,
        compress=True,
    )
    response = client_for("alpha.localhost").get(f"/accounts/login-link/{token}/")
    assert response.status_code == 400
    assert not _is_authenticated(response)


def test_login_link_of_school_a_on_school_b_host_is_refused(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    path = _link_for(school_a.school, school_a.owner, in_school)
    bravo = client_for("bravo.localhost")
    response = bravo.get(path)
    assert response.status_code == 400
    assert not _is_authenticated(response)
    assert bravo.get("/manage/").status_code == 302
    # Not burnt by the attempt: it still works where it belongs.
    assert client_for("alpha.localhost").get(path).status_code == 302


def test_login_link_for_a_disabled_account_is_refused(
    school_a: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    path = _link_for(school_a.school, school_a.owner, in_school)
    with in_school(school_a.school):
        User.objects.filter(pk=school_a.owner.pk).update(is_active=False)
    response = client_for("alpha.localhost").get(path)
    assert response.status_code == 400
    assert not _is_authenticated(response)


# --- bad input on /signup/ -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subdomain": "alpha"}, "subdomain", "already taken"),
        ({"subdomain": "ALPHA"}, "subdomain", "already taken"),
        ({"subdomain": "admin"}, "subdomain", "reserved"),
        ({"subdomain": "www"}, "subdomain", "reserved"),
        ({"subdomain": "my_school"}, "subdomain", "lowercase letters, digits and hyphens"),
        ({"subdomain": "héllo"}, "subdomain", "lowercase letters, digits and hyphens"),
        ({"subdomain": "-edge"}, "subdomain", "lowercase letters, digits and hyphens"),
        ({"subdomain": "a--b"}, "subdomain", "Two hyphens"),
        ({"subdomain": "ab"}, "subdomain", "at least 3"),
        ({"subdomain": "a" * 41}, "subdomain", "at most 40"),
        ({"subdomain": "a" * 80}, "subdomain", "at most"),
        ({"school_name": "S" * 121}, "school_name", "at most 120"),
        ({"school_name": "   "}, "school_name", ""),
        ({"full_name": "N" * 121}, "full_name", "at most 120"),
        ({"password": "123"}, "password", ""),
        ({"password": "password"}, "password", "too common"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"subdomain": ""}, "subdomain", "required"),
        ({"school_name": ""}, "school_name", "required"),
        ({"password": ""}, "password", "required"),
        ({"full_name": ""}, "full_name", "required"),
    ],
)
def test_school_signup_bad_input_shows_inline_error_and_creates_nothing(
    school_a: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    schools_before = School.objects.count()
    response = _signup(client_for, **overrides)
    assert response.status_code == 200, response.get("Location")
    errors = _field_errors(_text(response), field)
    assert errors, f"no error on {field}"
    assert message in errors
    assert School.objects.count() == schools_before
    assert not School.objects.filter(slug="engines").exists()
    with in_school(school_a.school):
        assert User.objects.count() == 1


def test_school_signup_with_all_fields_missing_flags_each(
    client_for: Callable[..., Client],
) -> None:
    # A browser always sends every field (and the CSRF token), empty or not.
    response = client_for(PLATFORM).post("/signup/", dict.fromkeys(_signup_data(), ""))
    assert response.status_code == 200
    html = _text(response)
    for field in ("full_name", "email", "password", "school_name", "subdomain"):
        assert "required" in _field_errors(html, field), field
    assert School.objects.count() == 0


def test_school_signup_normalises_uppercase_subdomain(client_for: Callable[..., Client]) -> None:
    response = _signup(client_for, subdomain="  MySchool ")
    assert response.status_code == 302
    assert response["Location"].startswith("http://myschool.localhost/accounts/login-link/")
    assert School.objects.filter(slug="myschool").exists()
    assert not School.objects.filter(slug="MySchool").exists()


def test_school_signup_ip_limit(client_for: Callable[..., Client], settings: Any) -> None:
    settings.RATE_LIMIT_SIGNUP_IP = "1/3600"
    first = client_for(PLATFORM, REMOTE_ADDR="203.0.113.30").post("/signup/", _signup_data())
    assert first.status_code == 302
    second = client_for(PLATFORM, REMOTE_ADDR="203.0.113.30").post(
        "/signup/", _signup_data(subdomain="second", email="b@example.com")
    )
    assert second.status_code == 429
    assert int(second["Retry-After"]) > 0
    assert not School.objects.filter(slug="second").exists()


# --- htmx subdomain check ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("free-name", "free-name.localhost is available"),
        ("Free-Name", "free-name.localhost is available"),
        ("alpha", "already taken"),
        ("admin", "reserved"),
        ("www", "reserved"),
        ("my_school", "lowercase letters"),
        ("héllo", "lowercase letters"),
        ("a" * 41, "at most 40"),
        ("", "Choose the address"),
    ],
)
def test_check_subdomain_fragment(
    school_a: Any, client_for: Callable[..., Client], value: str, expected: str
) -> None:
    response = client_for(PLATFORM).get("/signup/check-subdomain/", {"subdomain": value})
    assert response.status_code == 200
    html = _text(response)
    assert expected in html
    if "is available" not in expected:
        assert "is available" not in html
        assert "field-error" in html


def test_check_subdomain_answers_only_on_the_platform_host(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    assert (
        client_for("alpha.localhost")
        .get("/signup/check-subdomain/", {"subdomain": "x"})
        .status_code
        == 404
    )


# --- createschool ------------------------------------------------------------------------


def test_createschool_prints_school_url(
    client_for: Callable[..., Client], in_school: Callable[[Any], Any], settings: Any
) -> None:
    settings.PLATFORM_PORT = "8000"
    out = StringIO()
    call_command(
        "createschool",
        "gamma",
        "--name",
        "Gamma School",
        "--owner-email",
        "Owner@Gamma.test",
        "--password",
        PASSWORD,
        stdout=out,
    )
    assert out.getvalue().strip() == "http://gamma.localhost:8000/"
    school = School.objects.get(slug="gamma")
    assert school.plan.code == Plan.FREE
    with in_school(school):
        owner = User.objects.get(school=school)
        assert owner.email == "owner@gamma.test" and owner.role == User.Role.OWNER
        assert owner.full_name  # derived from the address
        assert owner.check_password(PASSWORD)
        assert Page.objects.filter(is_home=True, status=Page.Status.PUBLISHED).exists()
    login = client_for("gamma.localhost").post(
        "/accounts/login/", {"email": "owner@gamma.test", "password": PASSWORD}
    )
    assert login.status_code == 302 and login["Location"] == "/manage/"


def test_platform_port_defaults_to_8000() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "PLATFORM_PORT"}}
    result = subprocess.run(
        [sys.executable, "-c", "import courseplatform.settings as s; print(s.PLATFORM_PORT)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "8000"


def test_createschool_premium_plan(settings: Any) -> None:
    out = StringIO()
    call_command(
        "createschool",
        "delta",
        "--name",
        "Delta",
        "--owner-email",
        "d@delta.test",
        "--password",
        PASSWORD,
        "--plan",
        "premium",
        stdout=out,
    )
    assert School.objects.get(slug="delta").plan.code == Plan.PREMIUM


def test_createschool_taken_or_invalid_slug_is_a_command_error(school_a: Any) -> None:
    with pytest.raises(CommandError, match="already taken"):
        call_command(
            "createschool",
            "alpha",
            "--name",
            "Again",
            "--owner-email",
            "x@y.test",
            "--password",
            PASSWORD,
            stdout=StringIO(),
        )
    with pytest.raises(CommandError, match="reserved"):
        call_command(
            "createschool",
            "admin",
            "--name",
            "Admin",
            "--owner-email",
            "x@y.test",
            "--password",
            PASSWORD,
            stdout=StringIO(),
        )
    with pytest.raises(CommandError):
        call_command(
            "createschool",
            "weakpw",
            "--name",
            "Weak",
            "--owner-email",
            "x@y.test",
            "--password",
            "123",
            stdout=StringIO(),
        )
    assert set(School.objects.values_list("slug", flat=True)) == {"alpha"}


def test_createschool_without_password_gives_owner_an_unusable_password(
    in_school: Callable[[Any], Any],
) -> None:
    call_command(
        "createschool",
        "epsilon",
        "--name",
        "Epsilon",
        "--owner-email",
        "e@epsilon.test",
        stdout=StringIO(),
    )
    school = School.objects.get(slug="epsilon")
    with in_school(school):
        owner = User.objects.get(school=school)
        assert not owner.has_usable_password()
        assert owner.role == User.Role.OWNER


# --- operator console ------------------------------------------------------------------


def _staff_client(client_for: Callable[..., Client]) -> tuple[Client, User]:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = client_for(PLATFORM)
    response = client.post(
        "/admin/login/", {"username": "OPS@platform.test", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/", response
    return client, staff


@pytest.mark.django_db(transaction=True)
def test_operator_console_lists_schools_and_suspends_one(
    school_a: Any,
    school_b: Any,
    client_for: Callable[..., Client],
    in_school: Callable[[Any], Any],
) -> None:
    client, staff = _staff_client(client_for)
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/tenancy/school/")
    assert listing.status_code == 200
    html = _text(listing)
    assert "alpha" in html and "bravo" in html

    assert client_for("alpha.localhost").get("/").status_code == 200  # warms the host cache
    response = client.post(
        "/admin/tenancy/school/",
        {
            "action": "suspend_schools",
            "_selected_action": [school_a.school.pk],
            "index": "0",
        },
    )
    assert response.status_code == 302

    school_a.school.refresh_from_db()
    school_b.school.refresh_from_db()
    assert school_a.school.status == School.Status.SUSPENDED
    assert school_b.school.status == School.Status.ACTIVE
    suspended = client_for("alpha.localhost").get("/")
    assert suspended.status_code == 403
    assert "temporarily unavailable" in _text(suspended)
    assert _login_status(client_for, "alpha.localhost", "owner@alpha.test") == 403
    assert client_for("bravo.localhost").get("/").status_code == 200

    with in_school(school_a.school):
        entry = AuditLog.objects.get(action="school.suspended")
        assert entry.actor_id == staff.pk
        assert entry.target_id == str(school_a.school.pk)
    with in_school(school_b.school):
        assert not AuditLog.objects.filter(action="school.suspended").exists()

    bypasses = AuditLog.objects.filter(action="platform.rls_bypass", school__isnull=True)
    assert bypasses.count() >= 3
    assert {entry.actor_id for entry in bypasses} == {staff.pk}
    reasons = [entry.data["reason"] for entry in bypasses]
    assert "operator console POST /admin/tenancy/school/" in reasons
    assert "operator console GET /admin/tenancy/school/" in reasons


@pytest.mark.django_db(transaction=True)
def test_operator_console_changes_a_schools_plan_as_the_platform_role(
    school_a: Any, school_b: Any, client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    client, staff = _staff_client(client_for)
    premium = Plan.objects.get(code="premium")
    response = client.post(
        f"/admin/tenancy/school/{school_a.school.pk}/change/",
        # Everything the change form shows, as a browser sends it.
        {"name": school_a.school.name, "plan": premium.pk, "time_zone": school_a.school.time_zone},
    )
    assert response.status_code == 302, _text(response)
    school_a.school.refresh_from_db()
    school_b.school.refresh_from_db()
    assert (school_a.school.plan.code, school_b.school.plan.code) == ("premium", "free")
    with in_school(school_a.school):
        entry = AuditLog.objects.get(action="school.plan_changed")
        assert (entry.actor_id, entry.data) == (staff.pk, {"from": "free", "to": "premium"})


def _login_status(client_for: Callable[..., Client], host: str, email: str) -> int:
    return (
        client_for(host)
        .post("/accounts/login/", {"email": email, "password": PASSWORD})
        .status_code
    )


@pytest.mark.django_db(transaction=True)
def test_operator_console_unsuspend_restores_the_school(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client, _ = _staff_client(client_for)
    for action in ("suspend_schools", "unsuspend_schools"):
        client.post(
            "/admin/tenancy/school/",
            {"action": action, "_selected_action": [school_a.school.pk], "index": "0"},
        )
    school_a.school.refresh_from_db()
    assert school_a.school.is_active
    assert client_for("alpha.localhost").get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_operator_console_user_list_spans_schools(
    school_a: Any,
    school_b: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    make_user(school_b.school, "student@bravo.test")
    client, _ = _staff_client(client_for)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 200
    html = _text(response)
    for email in (
        "owner@alpha.test",
        "owner@bravo.test",
        "student@bravo.test",
        "ops@platform.test",
    ):
        assert email in html
    # Outside the console the bypass is gone again.
    assert not User.objects.filter(school__isnull=False).exists()


def test_operator_console_needs_staff_login(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    anonymous = client_for(PLATFORM).get("/admin/tenancy/school/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    # A school owner's credentials do not work on the platform host.
    response = client_for(PLATFORM).post(
        "/admin/login/", {"username": "owner@alpha.test", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200
    assert not _is_authenticated(response)
    assert not AuditLog.objects.filter(action="platform.rls_bypass").exists()


def test_school_owner_cannot_reach_admin_on_school_host(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = client_for("alpha.localhost")
    login = client.post("/accounts/login/", {"email": "owner@alpha.test", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/manage/").status_code == 200
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/tenancy/school/").status_code == 404
    assert client.get("/admin/login/").status_code == 404
