"""The host gate: which Host header reaches which site, and what everything else gets."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from courseplatform.ops.schools import set_school_status
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context
from courseplatform.tenancy.selectors import get_school_by_slug

pytestmark = pytest.mark.django_db

ALPHA = "Alpha Academy"
BRAVO = "Bravo Academy"
SCHOOL_NAMES = (ALPHA, BRAVO)


def _get(host: str, path: str = "/", **extra):
    return Client(HTTP_HOST=host).get(path, **extra)


def _assert_no_school_content(response) -> None:
    body = response.content.decode(errors="replace")
    for name in SCHOOL_NAMES:
        assert name not in body, f"{name!r} leaked into a {response.status_code} page"


@pytest.fixture
def two_schools(school_a, school_b):
    return school_a.school, school_b.school


# --- the two kinds of site ------------------------------------------------------------


def test_school_subdomain_serves_that_school(two_schools) -> None:
    response = _get("alpha.localhost")
    assert response.status_code == 200
    body = response.content.decode()
    assert ALPHA in body
    assert BRAVO not in body

    response = _get("bravo.localhost:8000")
    assert response.status_code == 200
    assert BRAVO in response.content.decode()
    assert ALPHA not in response.content.decode()


def test_bare_platform_domain_serves_the_platform_home(two_schools) -> None:
    for host in ("localhost", "localhost:8000"):
        response = _get(host)
        assert response.status_code == 200, host
        assert "Create your school" in response.content.decode()
        _assert_no_school_content(response)


def test_uppercase_host_resolves_to_the_school(two_schools) -> None:
    for host in ("ALPHA.LOCALHOST", "Alpha.LocalHost:8000"):
        response = _get(host)
        assert response.status_code == 200, host
        assert ALPHA in response.content.decode()


def test_fully_qualified_trailing_dot_resolves_to_the_school(two_schools) -> None:
    response = _get("alpha.localhost.")
    assert response.status_code == 200
    assert ALPHA in response.content.decode()


# --- hosts that are no school ---------------------------------------------------------


def test_unknown_slug_is_404_without_any_schools_content(two_schools) -> None:
    response = _get("charlie.localhost")
    assert response.status_code == 404
    assert "No school lives at this address" in response.content.decode()
    _assert_no_school_content(response)


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "alpha.evil.com",
        "alpha.localhost.evil.com",
        "localhost.evil.com",
        "evil-localhost",
        "alphalocalhost",
        "x.alpha.localhost",
        "alpha.bravo.localhost",
        "127.0.0.1",
        "127.0.0.1:8000",
        "[::1]:8000",
        ".localhost",
        "admin.localhost",
        "a..b",
        "alpha..localhost",
    ],
)
def test_foreign_nested_and_ip_hosts_are_404(two_schools, host: str) -> None:
    response = _get(host)
    assert response.status_code == 404, f"{host!r} answered {response.status_code}"
    _assert_no_school_content(response)


@pytest.mark.parametrize(
    "host",
    [
        "bad host",
        "alpha.localhost bravo.localhost",
        "user@alpha.localhost",
        "alpha.localhost@evil.com",
        "alpha.localhost:80:80",
        "alpha.localhost:abc",
        "alpha.localhost/evil",
        "alpha_school.localhost",
    ],
)
def test_malformed_hosts_are_refused_with_400(two_schools, host: str) -> None:
    response = _get(host)
    assert response.status_code == 400, f"{host!r} answered {response.status_code}"
    _assert_no_school_content(response)


def test_empty_host_falls_back_to_server_name_and_is_404(two_schools) -> None:
    response = _get("")  # no Host: the middleware uses SERVER_NAME ("testserver")
    assert response.status_code == 404
    _assert_no_school_content(response)


def test_admin_is_only_on_the_platform_domain(two_schools) -> None:
    response = _get("alpha.localhost", "/admin/")
    assert response.status_code == 404
    response = _get("alpha.localhost", "/admin/login/")
    assert response.status_code == 404

    response = _get("localhost", "/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_school_urls_are_not_served_on_the_platform_domain(two_schools) -> None:
    assert _get("localhost", "/manage/").status_code == 404
    assert _get("localhost", "/accounts/login/").status_code == 404


# --- suspension ---------------------------------------------------------------------


# Status changes are operator work, done by the platform role on its own connection.
@pytest.mark.django_db(transaction=True)
def test_suspended_school_gets_403_page_and_comes_back_when_unsuspended(two_schools) -> None:
    alpha, _ = two_schools
    assert _get("alpha.localhost").status_code == 200  # warms the host cache

    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(
            school=alpha, actor=None, status=School.Status.SUSPENDED, reason="unpaid invoices"
        )
    for path in ("/", "/accounts/login/", "/manage/"):
        response = _get("alpha.localhost", path)
        assert response.status_code == 403, path
        body = response.content.decode().lower()
        assert "unavailable" in body and "suspended" in body
        assert "unpaid invoices" not in body  # the operator's reason stays internal
    # Other schools are unaffected.
    assert _get("bravo.localhost").status_code == 200

    with platform_bypass(actor=None, reason="test: unsuspend"):
        set_school_status(school=alpha, actor=None, status=School.Status.ACTIVE)
    response = _get("alpha.localhost")
    assert response.status_code == 200
    assert ALPHA in response.content.decode()


# --- the host cache -----------------------------------------------------------------


def test_new_school_resolves_immediately_despite_negative_cache(make_school) -> None:
    assert _get("delta.localhost").status_code == 404  # caches "no school here"
    assert get_school_by_slug("delta") is None

    make_school("delta")

    response = _get("delta.localhost")
    assert response.status_code == 200
    assert "Delta Academy" in response.content.decode()


def test_renamed_school_is_served_with_its_new_name(two_schools) -> None:
    alpha, _ = two_schools
    assert ALPHA in _get("alpha.localhost").content.decode()  # cached
    alpha.name = "Alpha Renamed"
    with school_context(alpha):  # a school may rename only itself
        alpha.save(update_fields=["name", "updated_at"])
    body = _get("alpha.localhost").content.decode()
    assert "Alpha Renamed" in body


@pytest.mark.django_db(transaction=True)
def test_deleted_school_stops_resolving(make_school) -> None:
    created = make_school("echo").school
    assert _get("echo.localhost").status_code == 200  # cached in this process and Redis
    # Deleting a school is platform-wide work: its rows in tenant tables are only
    # visible to the cascade under the audited RLS bypass.
    with platform_bypass(actor=None, reason="test: delete a school"):
        School.objects.get(pk=created.pk).delete()
    assert _get("echo.localhost").status_code == 404


# --- probes -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["nope.localhost", "evil.com", "127.0.0.1", "alpha.localhost"])
def test_healthz_answers_on_every_host(two_schools, host: str) -> None:
    response = _get(host, "/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_readyz_reports_every_check_ok(two_schools) -> None:
    for host in ("10.0.0.7", "localhost"):
        response = _get(host, "/readyz")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/json")
        assert response["Cache-Control"] == "no-store"
        payload = json.loads(response.content)
        assert payload["status"] == "ok"
        assert payload["checks"] == {"database": "ok", "cache": "ok", "storage": "ok"}
        assert payload["failed"] == []
