"""The API's frame: schema and docs, tokens, problem+json, the session cookie ignored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courseplatform.api.models import ApiToken
from courseplatform.ops.models import AuditLog
from tests.fixtures.schools import PASSWORD, host_of

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def test_openapi_document_is_3_1_and_lists_the_resources(alpha):
    response = Client(HTTP_HOST=host_of(alpha)).get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    assert "/api/v1/courses" in schema["paths"]
    error = schema["paths"]["/api/v1/courses"]["get"]["responses"]["401"]["content"]
    assert list(error) == ["application/problem+json"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_docs_page_uses_self_hosted_assets(alpha):
    response = Client(HTTP_HOST=host_of(alpha)).get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_api_is_not_served_on_the_platform_host(db):
    response = Client(HTTP_HOST="localhost").get("/api/v1/openapi.json")
    is_problem(response, 404)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer cp_abc_def", "bearer  "],
)
def test_missing_or_malformed_token_is_401(alpha, header):
    headers = {"Authorization": header} if header is not None else {}
    response = Client(HTTP_HOST=host_of(alpha)).get("/api/v1/courses", headers=headers)
    body = is_problem(response, 401)
    assert body["type"] == "urn:courseplatform:problem:unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_of_a_real_token_is_401(alpha, api_for, make_token):
    token = make_token(alpha)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    is_problem(api_for(alpha, token=forged).get("/courses"), 401)
    assert api_for(alpha, token=token).get("/courses").status_code == 200


def test_token_of_another_school_is_401_like_a_wrong_token(alpha, bravo, make_token, api_for):
    token_b = make_token(bravo)
    wrong = is_problem(api_for(alpha, token="cp_000000000000_nope").get("/courses"), 401)
    foreign = is_problem(api_for(alpha, token=token_b).get("/courses"), 401)
    assert foreign == wrong
    assert api_for(bravo, token=token_b).get("/courses").status_code == 200


def test_read_token_cannot_write_and_nothing_changes(alpha, api_for, in_school):
    reader = api_for(alpha, scope="read")
    body = is_problem(reader.post("/courses", {"title": "Nope"}), 403)
    assert body["type"] == "urn:courseplatform:problem:insufficient-scope"
    assert reader.get("/courses").json()["data"] == []


def test_revoked_and_expired_tokens_are_refused_at_once(alpha, make_token, api_for, in_school):
    from courseplatform.accounts.models import User
    from courseplatform.api.services import revoke_token

    token = make_token(alpha)
    client = api_for(alpha, token=token)
    assert client.get("/courses").status_code == 200
    with in_school(alpha):
        row = ApiToken.objects.get(key_id=token.split("_")[1])
        owner = User.objects.get(school=alpha, role="owner")
        revoke_token(school=alpha, actor=owner, token=row)
    is_problem(client.get("/courses"), 401)

    expiring = make_token(alpha, expires_at=timezone.now() + timedelta(hours=1))
    client = api_for(alpha, token=expiring)
    assert client.get("/courses").status_code == 200
    with in_school(alpha):
        ApiToken.objects.filter(key_id=expiring.split("_")[1]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    is_problem(client.get("/courses"), 401)


def test_token_stops_working_when_its_creator_is_no_longer_owner(
    alpha, make_token, api_for, in_school
):
    from courseplatform.accounts.models import User

    client = api_for(alpha)
    assert client.get("/courses").status_code == 200
    with in_school(alpha):
        User.objects.filter(school=alpha, role="owner").update(role="instructor")
    is_problem(client.get("/courses"), 401)


def test_session_cookie_is_ignored_and_sets_no_cookie(alpha, client_for):

    browser = client_for(host_of(alpha))
    response = browser.post("/accounts/login/", {"email": "owner@alpha.test", "password": PASSWORD})
    assert response.status_code == 302 and browser.get("/manage/").status_code == 200
    response = browser.get("/api/v1/courses")
    is_problem(response, 401)
    # A POST with the session and no CSRF token: refused for lack of a token, not CSRF.
    response = browser.post("/api/v1/courses", data="{}", content_type="application/json")
    is_problem(response, 401)
    assert not response.cookies


def test_last_used_is_recorded_but_not_on_every_request(
    alpha, make_token, api_for, in_school, django_assert_num_queries
):
    token = make_token(alpha)
    client = api_for(alpha, token=token)
    client.get("/courses")
    with in_school(alpha):
        row = ApiToken.objects.get(key_id=token.split("_")[1])
    assert row.last_used_at is not None and row.last_used_ip == "127.0.0.1"
    first = row.last_used_at
    client.get("/courses")
    with in_school(alpha):
        row.refresh_from_db()
    assert row.last_used_at == first


def test_unknown_path_and_wrong_method_are_problems(alpha, api_for):
    client = api_for(alpha)
    is_problem(client.get("/nothing-here"), 404)
    response = client.request("PUT", "/courses", {"title": "x"})
    body = is_problem(response, 405)
    assert "GET" in response["Allow"]
    assert body["instance"] == "/api/v1/courses"


def test_token_creation_and_revocation_are_audited(alpha, make_token, in_school):
    make_token(alpha, name="CRM")
    with in_school(alpha):
        entry = AuditLog.objects.filter(school=alpha, action="api.token_created").get()
    assert entry.data == {"name": "CRM", "scope": "write"}
    assert entry.actor_id is not None


@pytest.mark.django_db(transaction=True)
def test_suspended_school_answers_403_problem(alpha, api_for):
    from courseplatform.ops.schools import set_school_status
    from courseplatform.tenancy.models import School
    from courseplatform.tenancy.rls import platform_bypass

    api = api_for(alpha)
    assert api.get("/school").status_code == 200
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=alpha, actor=None, status=School.Status.SUSPENDED, reason="x")
    body = is_problem(api.get("/school"), 403)
    assert "x" not in body["detail"].split()


def test_unknown_host_is_a_404_problem(db):
    is_problem(Client(HTTP_HOST="nosuchschool.localhost").get("/api/v1/courses"), 404)
