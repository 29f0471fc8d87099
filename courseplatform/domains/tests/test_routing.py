"""Custom domains in host resolution: an active domain serves its school through the
tenant middleware, nothing else does; a primary domain takes the subdomain's visitors
(301, path and query kept); the lookups are cached and forgotten on every change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from courseplatform.domains.models import CustomDomain
from courseplatform.domains.routing import forget_domain
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.tls_ask import TLS_ASK_PATH

pytestmark = [pytest.mark.django_db, pytest.mark.school_plan("premium")]

Status = CustomDomain.Status
ALPHA_HOST = "learn.alpha-brand.test"
BRAVO_HOST = "school.bravo-brand.test"
SCHOOL_NAMES = ("Alpha Academy", "Bravo Academy")


def _add(school: Any, hostname: str, **fields: Any) -> CustomDomain:
    fields.setdefault("status", Status.ACTIVE)
    if fields["status"] in (Status.ACTIVE, Status.FAILING):
        fields.setdefault("activated_at", timezone.now())
    with school_context(school):
        return CustomDomain.objects.create(school=school, hostname=hostname, **fields)


def _update(domain: CustomDomain, **fields: Any) -> None:
    with school_context(domain.school_id):
        CustomDomain.objects.filter(pk=domain.pk).update(**fields)
    # Bulk updates send no signal; the services announce them (on_domain_change).
    forget_domain(domain.hostname, school_id=domain.school_id)


def _get(host: str, path: str = "/", **extra: Any) -> Any:
    return Client(HTTP_HOST=host).get(path, **extra)


def _assert_nothing_of_any_school(response: Any) -> None:
    assert response.status_code == 404
    body = response.content.decode()
    assert "No school lives at this address" in body
    for name in SCHOOL_NAMES:
        assert name not in body


def _ask(name: str) -> int:
    return Client(HTTP_HOST="localhost").get(TLS_ASK_PATH, {"domain": name}).status_code


@pytest.fixture
def schools(school_a: Any, school_b: Any) -> tuple[Any, Any]:
    return school_a.school, school_b.school


# --- which custom host serves what ------------------------------------------------------


def test_an_active_custom_domain_serves_its_own_school_only(schools) -> None:
    alpha, bravo = schools
    _add(alpha, ALPHA_HOST)
    _add(bravo, BRAVO_HOST)
    for host, mine, other in (
        (ALPHA_HOST, "Alpha Academy", "Bravo Academy"),
        (BRAVO_HOST + ":8000", "Bravo Academy", "Alpha Academy"),
        (ALPHA_HOST.upper() + ".", "Alpha Academy", "Bravo Academy"),
    ):
        response = _get(host)
        assert response.status_code == 200, host
        body = response.content.decode()
        assert mine in body and other not in body
    assert _ask(ALPHA_HOST) == 200 and _ask(BRAVO_HOST) == 200


@pytest.mark.parametrize("status", [Status.PENDING, Status.REMOVED])
def test_a_domain_that_has_not_proved_itself_serves_nothing(schools, status) -> None:
    # Host-header attack: naming a school's pending (or removed) domain shows nothing.
    alpha, _ = schools
    _add(alpha, ALPHA_HOST, status=status)
    for path in ("/", "/courses/", "/accounts/login/", "/manage/"):
        _assert_nothing_of_any_school(_get(ALPHA_HOST, path))
    assert _ask(ALPHA_HOST) == 404


def test_a_name_nobody_registered_serves_nothing(schools) -> None:
    _add(schools[0], ALPHA_HOST)
    for host in ("victim-domain.test", "alpha-brand.test", "x." + ALPHA_HOST, "10.0.0.1"):
        _assert_nothing_of_any_school(_get(host))
        assert _ask(host) == 404


def test_a_failing_domain_serves_through_its_grace_period_then_stops(schools, settings) -> None:
    settings.CUSTOM_DOMAIN_GRACE_HOURS = 72
    alpha, _ = schools
    domain = _add(alpha, ALPHA_HOST)
    assert _get(ALPHA_HOST).status_code == 200  # cached as active
    _update(domain, status=Status.FAILING, failing_since=timezone.now() - timedelta(hours=71))
    assert _get(ALPHA_HOST).status_code == 200
    assert _ask(ALPHA_HOST) == 200
    # Time travel instead of sleeping: the same row, its grace over. The cached entry
    # carries failing_since, so the end applies without any write.
    _update(domain, failing_since=timezone.now() - timedelta(hours=73))
    _assert_nothing_of_any_school(_get(ALPHA_HOST))
    assert _ask(ALPHA_HOST) == 404


def test_removing_a_domain_stops_it_at_once_despite_the_cache(schools) -> None:
    alpha, bravo = schools
    domain = _add(alpha, ALPHA_HOST)
    assert _get(ALPHA_HOST).status_code == 200
    _update(domain, status=Status.REMOVED, removed_at=timezone.now())
    _assert_nothing_of_any_school(_get(ALPHA_HOST))
    # The name is free: another school claims it with its own proof and serves there.
    _add(bravo, ALPHA_HOST)
    response = _get(ALPHA_HOST)
    assert response.status_code == 200
    assert "Bravo Academy" in response.content.decode()


def test_an_activated_domain_serves_at_once_despite_the_negative_cache(schools) -> None:
    alpha, _ = schools
    domain = _add(alpha, ALPHA_HOST, status=Status.PENDING)
    _assert_nothing_of_any_school(_get(ALPHA_HOST))  # caches "pending"
    domain.status = Status.ACTIVE
    domain.activated_at = timezone.now()
    with school_context(alpha):
        domain.save()  # an ORM save: the signal forgets it
    assert _get(ALPHA_HOST).status_code == 200


def test_a_custom_host_is_resolved_from_the_cache(schools, django_assert_num_queries) -> None:
    alpha, _ = schools
    _add(alpha, ALPHA_HOST)
    assert _ask(ALPHA_HOST) == 200  # warms the cache
    assert _ask("unknown.example.test") == 404  # warms the negative answer
    with django_assert_num_queries(0):
        assert _ask(ALPHA_HOST) == 200
        assert _get(ALPHA_HOST, "/healthz").status_code == 200
        assert _ask("unknown.example.test") == 404


# Suspending is operator work on the platform role's own connection.
@pytest.mark.django_db(transaction=True)
def test_a_suspended_schools_domain_serves_nothing_and_gets_no_certificate(schools) -> None:
    from courseplatform.ops.schools import set_school_status
    from courseplatform.tenancy.models import School
    from courseplatform.tenancy.rls import platform_bypass

    alpha, _ = schools
    _add(alpha, ALPHA_HOST)
    assert _ask(ALPHA_HOST) == 200  # cached
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=alpha, actor=None, status=School.Status.SUSPENDED)
    # The domain entry holds the school's slug; the school comes from tenancy's cache,
    # which follows the suspension.
    assert _ask(ALPHA_HOST) == 404
    assert _get(ALPHA_HOST).status_code == 403


# --- the primary domain ---------------------------------------------------------------


def test_the_subdomain_redirects_to_the_primary_domain_with_path_and_query(schools) -> None:
    alpha, _ = schools
    domain = _add(alpha, ALPHA_HOST, is_primary=True)
    response = _get("alpha.localhost:8000", "/courses/?page=2&q=a%20b")
    assert response.status_code == 301
    assert response["Location"] == f"http://{ALPHA_HOST}:8000/courses/?page=2&q=a%20b"
    assert _get("alpha.localhost", "/").status_code == 301
    # The custom domain itself answers, and another school is untouched.
    assert _get(ALPHA_HOST + ":8000", "/courses/").status_code == 200
    assert _get("bravo.localhost", "/").status_code == 200
    # No longer primary: the subdomain answers again.
    _update(domain, is_primary=False)
    assert _get("alpha.localhost", "/").status_code == 200


def test_a_hostile_path_cannot_leave_the_primary_host(schools) -> None:
    alpha, _ = schools
    _add(alpha, ALPHA_HOST, is_primary=True)
    for path in ("//evil.example/", "/\\evil.example/", "/%2F%2Fevil.example/"):
        response = _get("alpha.localhost", path)
        assert response.status_code == 301, path
        assert response["Location"].startswith(f"http://{ALPHA_HOST}/"), path
    # A hostile Host header never picks the redirect target: it is not a school.
    _assert_nothing_of_any_school(_get("evil.example", "/", HTTP_X_FORWARDED_HOST=ALPHA_HOST))


def test_a_primary_domain_past_its_grace_stops_the_redirect(schools) -> None:
    alpha, _ = schools
    domain = _add(alpha, ALPHA_HOST, is_primary=True)
    assert _get("alpha.localhost").status_code == 301
    _update(domain, status=Status.FAILING, failing_since=timezone.now() - timedelta(days=30))
    assert _get("alpha.localhost").status_code == 200


def test_what_stays_on_the_subdomain(schools, make_user) -> None:
    alpha, _ = schools
    _add(alpha, ALPHA_HOST, is_primary=True)
    client = Client(HTTP_HOST="alpha.localhost")
    with school_context(alpha):
        client.force_login(_owner(alpha))
    assert client.get("/manage/").status_code == 200  # management works on both hosts
    assert client.get("/manage/courses/").status_code == 200
    for path in ("/static/dist/app.css", "/healthz", "/accounts/login-link/bogus/"):
        assert client.get(path).status_code != 301, path
    # A POST is not redirected (its body would be lost): it is handled where it arrived,
    # here an empty login form answered with the form's error.
    response = Client(HTTP_HOST="alpha.localhost").post("/accounts/login/", {})
    assert response.status_code == 200
    assert "The email or password is incorrect." in response.content.decode()


def _owner(school: Any) -> Any:
    from courseplatform.accounts.models import User

    with school_context(school):
        return User.objects.get(school=school, email=f"owner@{school.slug}.test")


def test_links_to_the_school_use_its_primary_domain(schools) -> None:
    alpha, bravo = schools
    _add(alpha, ALPHA_HOST, is_primary=True)
    assert school_url(alpha, "/courses/", port="") == f"http://{ALPHA_HOST}/courses/"
    assert school_url(alpha, "/", port="", subdomain=True) == "http://alpha.localhost/"
    assert school_url(bravo, "/", port="") == "http://bravo.localhost/"


@pytest.mark.django_db(transaction=True)  # the plan change runs as the platform role
def test_a_school_moved_to_a_plan_without_domains_stops_serving_on_them_at_once(
    schools,
) -> None:
    from courseplatform.ops.schools import change_plan
    from courseplatform.tenancy.models import Plan
    from courseplatform.tenancy.rls import platform_bypass

    alpha, bravo = schools
    _add(alpha, ALPHA_HOST, is_primary=True)
    _add(bravo, BRAVO_HOST)
    assert _get(ALPHA_HOST).status_code == 200 and _ask(ALPHA_HOST) == 200
    assert _get("alpha.localhost").status_code == 301

    def move(plan: str) -> None:
        with platform_bypass(actor=None, reason="test: change plan"):
            change_plan(school=alpha, actor=None, plan=Plan.objects.get(code=plan))
        alpha.refresh_from_db()

    move("free")
    # Cached host entries follow the plan through tenancy's school cache: no wait.
    _assert_nothing_of_any_school(_get(ALPHA_HOST))
    assert _ask(ALPHA_HOST) == 404
    assert _get("alpha.localhost").status_code == 200  # no redirect to a dead primary
    assert school_url(alpha, "/courses/").startswith("http://alpha.localhost")
    # The domain is kept, shown as not serving, and another school is untouched.
    with school_context(alpha):
        assert CustomDomain.objects.filter(hostname=ALPHA_HOST, status=Status.ACTIVE).exists()
    owner = Client(HTTP_HOST="alpha.localhost")
    with school_context(alpha):
        owner.force_login(_owner(alpha))
    page = owner.get("/manage/domains/").content.decode()
    assert "data-domains-paused" in page
    assert _get(BRAVO_HOST).status_code == 200

    move("premium")
    assert _get(ALPHA_HOST).status_code == 200 and _ask(ALPHA_HOST) == 200
    assert _get("alpha.localhost").status_code == 301
