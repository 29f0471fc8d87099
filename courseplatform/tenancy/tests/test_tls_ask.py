"""Caddy's on-demand TLS ``ask`` endpoint: yes only for names that serve an active school,
answered only on the platform host or to the local edge by loopback address."""

from __future__ import annotations

import pytest
from django.test import Client

from courseplatform.ops.schools import set_school_status
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass
from courseplatform.tenancy.tls_ask import TLS_ASK_PATH, certificate_allowed

pytestmark = pytest.mark.django_db


def _ask(name: str, *, host: str = "localhost", **extra):
    return Client(HTTP_HOST=host).get(TLS_ASK_PATH, {"domain": name}, **extra)


def test_an_existing_schools_subdomain_may_get_a_certificate(school_a, school_b) -> None:
    for name in ("alpha.localhost", "bravo.localhost", "ALPHA.localhost", "alpha.localhost."):
        response = _ask(name)
        assert response.status_code == 200, name
        assert response["Cache-Control"] == "no-store"


def test_the_platform_domain_itself_is_allowed(db) -> None:
    assert _ask("localhost").status_code == 200
    assert _ask("localhost", host="127.0.0.1:8000").status_code == 200


def test_names_that_serve_no_school_are_refused(school_a) -> None:
    for name in (
        "charlie.localhost",  # no such school
        "deep.alpha.localhost",  # nested label
        "www.localhost",  # reserved
        "learn.alpha-academy.test",  # a custom domain nobody verified
        "127.0.0.1",
        "alpha.localhost:443",  # a port is not a hostname
        "[::1]",
        "",
        "a" * 300 + ".localhost",
    ):
        assert _ask(name).status_code == 404, name
    assert Client(HTTP_HOST="localhost").get(TLS_ASK_PATH).status_code == 404


# Suspending is operator work on the platform role's own connection.
@pytest.mark.django_db(transaction=True)
def test_a_suspended_school_gets_no_new_certificate(school_a) -> None:
    assert _ask("alpha.localhost").status_code == 200  # cached as allowed
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=school_a.school, actor=None, status=School.Status.SUSPENDED)
    assert _ask("alpha.localhost").status_code == 404
    assert certificate_allowed("alpha.localhost") is False


def test_the_local_edge_may_ask_by_loopback_address(school_a) -> None:
    for host in ("127.0.0.1:8000", "[::1]:8000", "127.0.0.1"):
        assert _ask("alpha.localhost", host=host).status_code == 200, host
        assert _ask("nobody.localhost", host=host).status_code == 404, host


def test_not_reachable_on_school_hosts_or_through_the_edge(school_a) -> None:
    # A school's host has no such page: its own 404, and never a "yes".
    response = _ask("alpha.localhost", host="alpha.localhost")
    assert response.status_code == 404
    assert response.content != b"ok\n"
    # A loopback Host relayed by a proxy (X-Forwarded-For) or from another peer is an
    # unknown host, not the edge.
    response = _ask("alpha.localhost", host="127.0.0.1:8000", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 404
    assert response.content != b"ok\n"
    response = _ask("alpha.localhost", host="127.0.0.1:8000", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert response.content != b"ok\n"


def test_only_get_is_answered(school_a) -> None:
    response = Client(HTTP_HOST="localhost").post(TLS_ASK_PATH + "?domain=alpha.localhost")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_the_answer_comes_from_the_host_cache(school_a, django_assert_num_queries) -> None:
    assert _ask("alpha.localhost").status_code == 200  # warms the cache
    with django_assert_num_queries(0):
        assert _ask("alpha.localhost").status_code == 200
        assert _ask("alpha.localhost").status_code == 200
