"""Settings → API: the owner's token page (create, shown once, revoke)."""

from __future__ import annotations

import pytest

from courseplatform.api.models import ApiToken
from courseplatform.ops.models import AuditLog
from tests.fixtures.schools import PASSWORD, host_of

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def _logged_in(client_for, school, email):
    client = client_for(host_of(school))
    assert (
        client.post("/accounts/login/", {"email": email, "password": PASSWORD}).status_code == 302
    )
    return client


def test_owner_creates_a_token_shown_once_that_works(alpha, client_for, in_school):
    owner = _logged_in(client_for, alpha, "owner@alpha.test")
    assert owner.get("/manage/settings/").content.count(b"/manage/settings/api/") == 1
    page = owner.get("/manage/settings/api/")
    assert page.status_code == 200 and b"No tokens yet" in page.content
    created = owner.post(
        "/manage/settings/api/", {"name": "CRM sync", "scope": "read", "expires_in": "30"}
    )
    # POST-redirect-GET: the answer to the POST is a redirect, so reloading the page
    # after it repeats the GET, not the POST.
    assert created.status_code == 302 and created["Location"] == "/manage/settings/api/"
    shown = owner.get("/manage/settings/api/")
    assert shown["Cache-Control"] == "private, no-store"
    secret = shown.context["new_token"].plaintext
    assert secret.startswith("cp_") and secret.encode() in shown.content
    assert "api_new_token" not in owner.session  # read once, then gone from the session
    reloaded = owner.get("/manage/settings/api/")
    assert secret.encode() not in reloaded.content and reloaded.context["new_token"] is None
    with in_school(alpha):
        row = ApiToken.objects.get(school=alpha)  # one token: the reload created none
    assert row.scope == "read" and row.expires_at is not None and secret not in row.secret_hash
    api = ApiClient(host_of(alpha), secret)
    assert api.get("/school").status_code == 200
    assert api.post("/courses", {"title": "No"}).status_code == 403
    listed = owner.get("/manage/settings/api/").content.decode()
    assert "CRM sync" in listed and row.prefix in listed and "127.0.0.1" in listed


def test_owner_revokes_a_token(alpha, client_for, make_token, in_school):
    secret = make_token(alpha, name="Shop")
    owner = _logged_in(client_for, alpha, "owner@alpha.test")
    with in_school(alpha):
        row = ApiToken.objects.get(school=alpha)
    response = owner.post(f"/manage/settings/api/{row.pk}/revoke/")
    assert response.status_code == 302
    assert ApiClient(host_of(alpha), secret).get("/school").status_code == 401
    with in_school(alpha):
        assert AuditLog.objects.filter(school=alpha, action="api.token_revoked").count() == 1
    assert b"Revoked" in owner.get("/manage/settings/api/").content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read"}, "name"),
        ({"name": "Two\nlines", "scope": "read"}, "name"),
        ({"name": "x" * 81, "scope": "read"}, "name"),
        ({"name": "Ok", "scope": "admin"}, "scope"),
        ({"name": "Ok", "scope": "read", "expires_in": "7"}, "expires_in"),
    ],
)
def test_bad_token_form_creates_nothing(alpha, client_for, in_school, data, field):
    owner = _logged_in(client_for, alpha, "owner@alpha.test")
    response = owner.post("/manage/settings/api/", data)
    assert response.status_code == 200 and response.context["form"].errors[field]
    assert response.context["new_token"] is None
    with in_school(alpha):
        assert not ApiToken.objects.filter(school=alpha).exists()


def test_instructors_and_students_cannot_open_it(
    alpha, client_for, make_user, make_token, in_school
):
    make_user(alpha, "teacher@alpha.test", role="instructor")
    make_user(alpha, "student@alpha.test")
    make_token(alpha)
    with in_school(alpha):
        token_id = ApiToken.objects.get(school=alpha).pk
    for email in ("teacher@alpha.test", "student@alpha.test"):
        client = _logged_in(client_for, alpha, email)
        assert client.get("/manage/settings/api/").status_code == 403
        assert (
            client.post("/manage/settings/api/", {"name": "x", "scope": "write"}).status_code == 403
        )
        assert client.post(f"/manage/settings/api/{token_id}/revoke/").status_code == 403
    teacher = _logged_in(client_for, alpha, "teacher@alpha.test")
    assert b"/manage/settings/api/" not in teacher.get("/manage/settings/").content
    with in_school(alpha):
        assert ApiToken.objects.get(school=alpha).revoked_at is None


def test_other_schools_token_cannot_be_revoked(alpha, bravo, client_for, make_token, in_school):
    make_token(bravo)
    with in_school(bravo):
        token_b = ApiToken.objects.get(school=bravo)
    owner_a = _logged_in(client_for, alpha, "owner@alpha.test")
    assert owner_a.post(f"/manage/settings/api/{token_b.pk}/revoke/").status_code == 404
    assert b"No tokens yet" in owner_a.get("/manage/settings/api/").content
    with in_school(bravo):
        token_b.refresh_from_db()
    assert token_b.revoked_at is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  ", "scope": "read"}, "name"),
        ({"name": "x" * 81, "scope": "read"}, "name"),
        ({"name": "Ok", "scope": "admin"}, "scope"),
        ({"name": "Ok", "scope": "read", "expires_at": "past"}, "expires_at"),
    ],
)
def test_create_token_service_refuses_bad_input(alpha, in_school, kwargs, field):
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from courseplatform.accounts.models import User
    from courseplatform.api.services import create_token

    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = timezone.now() - timedelta(minutes=1)
    with in_school(alpha):
        owner = User.objects.get(school=alpha, role="owner")
        with pytest.raises(ValidationError) as refused:
            create_token(school=alpha, actor=owner, **kwargs)
        assert field in refused.value.message_dict
        assert not ApiToken.objects.filter(school=alpha).exists()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "cp_",
        "cp__x",
        "xx_abc_def",
        "cp_ab-c_def",
        "cp_" + "a" * 17 + "_s",
        "cp_abc_" + "s" * 101,
    ],
)
def test_malformed_tokens_are_not_looked_up(raw):
    from courseplatform.api.services import split_token

    assert split_token(raw) is None


def test_a_stashed_token_that_was_revoked_meanwhile_is_not_shown(alpha, client_for, in_school):
    owner = _logged_in(client_for, alpha, "owner@alpha.test")
    created = owner.post("/manage/settings/api/", {"name": "Shop", "scope": "write"})
    assert created.status_code == 302
    with in_school(alpha):
        ApiToken.objects.filter(school=alpha).delete()
    page = owner.get("/manage/settings/api/")
    assert page.status_code == 200 and page.context["new_token"] is None
    assert b"data-new-token " not in page.content


def test_a_malformed_stash_in_the_session_shows_nothing(alpha, client_for):
    owner = _logged_in(client_for, alpha, "owner@alpha.test")
    session = owner.session
    session["api_new_token"] = {"id": "1; drop", "plaintext": "cp_x"}
    session.save()
    page = owner.get("/manage/settings/api/")
    assert page.status_code == 200 and page.context["new_token"] is None
    assert "api_new_token" not in owner.session
