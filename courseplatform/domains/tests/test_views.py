"""The Domains page: plans, bad input, owner only, another school's domains are 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.domains import services
from courseplatform.domains.models import CustomDomain
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of

pytestmark = pytest.mark.django_db
Status = CustomDomain.Status
HOST = "learn.alpha-brand.test"


def _owner_client(created: Any) -> Client:
    return _client_as(created.school, created.owner)


def _client_as(school: Any, user: Any) -> Client:
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(user)
    return client


def _domains(created: Any) -> list[tuple[str, str]]:
    with school_context(created.school):
        return list(
            CustomDomain.objects.filter(school=created.school)
            .order_by("pk")
            .values_list("hostname", "status")
        )


@pytest.fixture
def alpha(make_school: Any) -> Any:
    return make_school("alpha", plan="premium")


@pytest.fixture
def bravo(make_school: Any) -> Any:
    return make_school("bravo", plan="premium")


def test_free_plan_sees_an_upgrade_message_and_cannot_add(make_school: Any) -> None:
    free = make_school("freebie")
    client = _owner_client(free)
    page = client.get("/manage/domains/")
    assert page.status_code == 200
    assert b"part of the <strong>Premium</strong> plan" in page.content
    assert b'name="hostname"' not in page.content
    refused = client.post("/manage/domains/add/", {"hostname": HOST})
    assert refused.status_code == 400
    assert "not included in the Free plan" in refused.content.decode()
    assert _domains(free) == []


def test_owner_adds_a_domain_and_sees_the_records(alpha: Any) -> None:
    client = _owner_client(alpha)
    response = client.post("/manage/domains/add/", {"hostname": "  Learn.Alpha-Brand.TEST "})
    assert response.status_code == 302
    assert _domains(alpha) == [(HOST, "pending")]
    with school_context(alpha.school):
        domain = CustomDomain.objects.get()
    page = client.get("/manage/domains/").content.decode()
    assert f'data-copy="{HOST}"' in page
    assert 'data-copy="alpha.localhost"' in page  # CNAME target: the school's own host
    assert f'data-copy="_courseplatform.{HOST}"' in page
    assert f'data-copy="{domain.verification_token}"' in page
    assert "dist/copy-buttons.js" in page
    assert "<script>" not in page  # no inline script (CSP)
    with school_context(alpha.school):
        entry = AuditLog.objects.get(action="domain.added")
    assert entry.data == {"hostname": HOST} and entry.actor_id == alpha.owner.pk


def test_premium_plan_holds_one_domain(alpha: Any) -> None:
    client = _owner_client(alpha)
    assert client.post("/manage/domains/add/", {"hostname": HOST}).status_code == 302
    refused = client.post("/manage/domains/add/", {"hostname": "www.alpha-brand.test"})
    assert refused.status_code == 400
    assert "plan includes 1 custom domain" in refused.content.decode()
    assert _domains(alpha) == [(HOST, "pending")]
    page = client.get("/manage/domains/").content.decode()
    assert 'name="hostname"' not in page and "Remove one to add another" in page


BAD_INPUT = [
    ("learn..alpha-brand.test", "empty part"),
    ("x" * 64 + ".alpha-brand.test", "at most 63 characters"),
    ("learn.alpha-brand.test.", "Leave out the final dot"),
    ("*.alpha-brand.test", "Wildcard"),
    ("203.0.113.5", "IP address"),
    ("[2001:db8::5]", "IP address"),
    ("localhost", "single word"),
    ("alpha.localhost", "platform&#x27;s own domain"),
    ("co.uk", "public suffix"),
    ("https://learn.alpha-brand.test/", "without http://"),
    ("lea rn.alpha-brand.test", "spaces"),
    ("", "This field is required"),
    ("a" * 301, "at most 300 characters"),
]


@pytest.mark.parametrize(("hostname", "words"), BAD_INPUT)
def test_bad_hostnames_get_a_clear_error_and_change_nothing(
    alpha: Any, hostname: str, words: str
) -> None:
    client = _owner_client(alpha)
    with school_context(alpha.school):
        audit_before = AuditLog.objects.count()
    response = client.post("/manage/domains/add/", {"hostname": hostname})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert _domains(alpha) == []
    with school_context(alpha.school):
        assert AuditLog.objects.count() == audit_before


def test_root_domain_without_configured_addresses_is_refused(alpha: Any, settings) -> None:
    settings.CUSTOM_DOMAIN_IPV4 = []
    settings.CUSTOM_DOMAIN_IPV6 = []
    response = _owner_client(alpha).post("/manage/domains/add/", {"hostname": "alpha-brand.test"})
    assert response.status_code == 400
    assert "use a subdomain such as www.alpha-brand.test" in response.content.decode()
    assert _domains(alpha) == []


def test_a_domain_twice_in_one_school(alpha: Any, plan_limits: Any) -> None:
    plan_limits(alpha.school.plan, max_custom_domains=5)
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    again = client.post("/manage/domains/add/", {"hostname": "LEARN.alpha-brand.test"})
    assert again.status_code == 400
    assert "already one of your domains" in again.content.decode()
    assert _domains(alpha) == [(HOST, "pending")]


def test_only_the_owner_manages_domains(alpha: Any, make_user: Any) -> None:
    for role in ("instructor", "student"):
        person = make_user(alpha.school, f"{role}@alpha.test", role=role)
        client = _client_as(alpha.school, person)
        assert client.get("/manage/domains/").status_code == 403
        assert client.post("/manage/domains/add/", {"hostname": HOST}).status_code == 403
    anonymous = Client(HTTP_HOST=host_of(alpha.school)).get("/manage/domains/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _domains(alpha) == []


def test_another_school_cannot_see_check_promote_or_remove(alpha: Any, bravo: Any) -> None:
    with school_context(alpha.school):
        domain = services.add_domain(school=alpha.school, actor=alpha.owner, hostname=HOST)
        CustomDomain.objects.filter(pk=domain.pk).update(status=Status.ACTIVE)
    intruder = _owner_client(bravo)
    page = intruder.get("/manage/domains/").content.decode()
    assert HOST not in page and domain.verification_token not in page
    for action in ("check", "primary", "remove"):
        response = intruder.post(f"/manage/domains/{domain.pk}/{action}/", {"primary": "1"})
        assert response.status_code == 404, action
    with school_context(alpha.school):
        unchanged = CustomDomain.objects.get(pk=domain.pk)
    assert (unchanged.status, unchanged.is_primary, unchanged.last_checked_at) == (
        Status.ACTIVE,
        False,
        None,
    )
    # Nor can it claim the hostname while alpha holds it.
    taken = intruder.post("/manage/domains/add/", {"hostname": HOST})
    assert taken.status_code == 400
    assert "already connected to another school" in taken.content.decode()
    assert _domains(bravo) == []


def test_a_freed_hostname_needs_the_new_schools_own_proof(
    alpha: Any, bravo: Any, dns_server: Any
) -> None:
    alpha_client, bravo_client = _owner_client(alpha), _owner_client(bravo)
    alpha_client.post("/manage/domains/add/", {"hostname": HOST})
    with school_context(alpha.school):
        old = CustomDomain.objects.get()
    assert alpha_client.post(f"/manage/domains/{old.pk}/remove/").status_code == 302
    assert _domains(alpha) == [(HOST, "removed")]
    assert bravo_client.post("/manage/domains/add/", {"hostname": HOST}).status_code == 302
    with school_context(bravo.school):
        new = CustomDomain.objects.get()
    assert new.verification_token != old.verification_token
    # alpha's old TXT record is still out there: it proves nothing for bravo.
    dns_server.serve(
        cname={HOST: "bravo.localhost"}, txt={f"_courseplatform.{HOST}": old.verification_token}
    )
    bravo_client.post(f"/manage/domains/{new.pk}/check/")
    assert _domains(bravo) == [(HOST, "pending")]
    dns_server.serve(
        cname={HOST: "bravo.localhost"}, txt={f"_courseplatform.{HOST}": new.verification_token}
    )
    bravo_client.post(f"/manage/domains/{new.pk}/check/")
    assert _domains(bravo) == [(HOST, "active")]


def test_check_now_over_htmx_returns_the_card(alpha: Any, dns_server: Any) -> None:
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    with school_context(alpha.school):
        domain = CustomDomain.objects.get()
    dns_server.serve(cname={HOST: "elsewhere.example.test"})
    card = client.post(f"/manage/domains/{domain.pk}/check/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    html = card.content.decode()
    assert html.lstrip().startswith(f'<section id="domain-{domain.pk}"')
    assert 'data-finding="CNAME" data-state="wrong"' in html
    assert "CNAME to elsewhere.example.test, not to alpha.localhost" in html
    assert 'data-finding="TXT" data-state="missing"' in html
    with school_context(alpha.school):
        entry = AuditLog.objects.get(action="domain.checked")
    assert entry.data["outcome"] == "unverified"


def test_check_now_during_a_dns_timeout(alpha: Any, dns_blackhole: str) -> None:
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    with school_context(alpha.school):
        domain = CustomDomain.objects.get()
    html = client.post(f"/manage/domains/{domain.pk}/check/", HTTP_HX_REQUEST="true").content
    assert b"Couldn&#x27;t check the DNS records right now" in html
    assert b"will retry" in html
    assert _domains(alpha) == [(HOST, "pending")]


def test_primary_needs_a_serving_domain_and_is_audited(alpha: Any, plan_limits: Any) -> None:
    plan_limits(alpha.school.plan, max_custom_domains=5)
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    client.post("/manage/domains/add/", {"hostname": "www.alpha-brand.test"})
    with school_context(alpha.school):
        learn, www = CustomDomain.objects.order_by("pk")
    refused = client.post(f"/manage/domains/{learn.pk}/primary/", {"primary": "1"}, follow=True)
    assert "not serving your school yet" in refused.content.decode()
    with school_context(alpha.school):
        CustomDomain.objects.update(status=Status.ACTIVE)
    client.post(f"/manage/domains/{learn.pk}/primary/", {"primary": "1"})
    client.post(f"/manage/domains/{www.pk}/primary/", {"primary": "1"})
    with school_context(alpha.school):
        assert list(CustomDomain.objects.order_by("pk").values_list("is_primary", flat=True)) == [
            False,
            True,
        ]
    client.post(f"/manage/domains/{www.pk}/primary/", {"primary": "0"})
    client.post(f"/manage/domains/{www.pk}/remove/")
    with school_context(alpha.school):
        changes = list(
            AuditLog.objects.filter(action="domain.primary_changed")
            .order_by("pk")
            .values_list("data", flat=True)
        )
        assert AuditLog.objects.filter(action="domain.removed").count() == 1
    assert [(c["hostname"], c["primary"], c["previous"]) for c in changes] == [
        (HOST, True, []),
        ("www.alpha-brand.test", True, [HOST]),
        ("www.alpha-brand.test", False, ["www.alpha-brand.test"]),
    ]


def test_removing_clears_primary_and_get_is_not_allowed(alpha: Any) -> None:
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    with school_context(alpha.school):
        domain = CustomDomain.objects.get()
        CustomDomain.objects.update(status=Status.ACTIVE, is_primary=True)
    assert client.get(f"/manage/domains/{domain.pk}/remove/").status_code == 405
    client.post(f"/manage/domains/{domain.pk}/remove/")
    with school_context(alpha.school):
        gone = CustomDomain.objects.get()
    assert (gone.status, gone.is_primary, gone.removed_at is not None) == ("removed", False, True)
    # Removed twice (a second tab): 404, nothing new.
    assert client.post(f"/manage/domains/{domain.pk}/remove/").status_code == 404


def test_the_page_costs_the_same_queries_with_more_domains(alpha: Any, plan_limits: Any) -> None:
    plan_limits(alpha.school.plan, max_custom_domains=None)
    client = _owner_client(alpha)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/manage/domains/").status_code == 200
        return len(queries)

    client.post("/manage/domains/add/", {"hostname": "one.alpha-brand.test"})
    count()  # warm-up: the first page view fills the theme cache
    few = count()
    for n in range(6):
        client.post("/manage/domains/add/", {"hostname": f"d{n}.alpha-brand.test"})
    assert count() == few


def test_check_now_is_rate_limited_per_school(alpha: Any, dns_blackhole: str, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMIT_DOMAIN_CHECK = "1/600"
    client = _owner_client(alpha)
    client.post("/manage/domains/add/", {"hostname": HOST})
    with school_context(alpha.school):
        domain = CustomDomain.objects.get()
    client.post(f"/manage/domains/{domain.pk}/check/", HTTP_HX_REQUEST="true")
    with school_context(alpha.school):
        checked_at = CustomDomain.objects.get().last_checked_at
    card = client.post(f"/manage/domains/{domain.pk}/check/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and int(card["Retry-After"]) > 0
    assert b"That was a lot of checks" in card.content and b"data-notice" in card.content
    page = client.post(f"/manage/domains/{domain.pk}/check/")
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    with school_context(alpha.school):
        assert CustomDomain.objects.get().last_checked_at == checked_at
        assert AuditLog.objects.filter(action="domain.checked").count() == 1
