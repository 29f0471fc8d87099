"""Automated mode: the real Cloudflare SDK against a loopback fake of the custom-hostname
endpoints (tests/fixtures/cloudflare.py), with the DNS proof on a real dnsmasq
(tests/fixtures/dns.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from courseplatform.domains import services
from courseplatform.domains.models import CustomDomain
from courseplatform.domains.periodic import verify_custom_domains
from courseplatform.tenancy.rls import school_context
from tests.fixtures.cloudflare import REFUSED_SUFFIX, FakeCloudflare

from .test_verification import HOST, _add, _check, _proof

Status = CustomDomain.Status


@pytest.fixture
def premium(make_school: Any) -> Any:
    return make_school("alpha", plan="premium")


def _rows(created: Any) -> list[CustomDomain]:
    with school_context(created.school):
        return list(CustomDomain.objects.filter(school=created.school))


def _owner_client(created: Any) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    with school_context(created.school):
        client.force_login(created.owner)
    return client


# --- adding ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_creates_the_custom_hostname_and_shows_cloudflares_records(
    premium: Any, fake_cloudflare: FakeCloudflare
) -> None:
    domain = _add(premium)
    stored = fake_cloudflare.by_name(HOST)
    assert stored is not None
    assert domain.cloudflare_id == stored["id"]
    assert domain.cloudflare_state["status"] == "pending"
    page = _owner_client(premium).get("/manage/domains/")
    assert page.status_code == 200
    html = page.content.decode()
    # Our own records and the two Cloudflare asks for, each with its value.
    assert f"_courseplatform.{HOST}" in html and domain.verification_token in html
    assert f"_cf-custom-hostname.{HOST}" in html
    assert stored["ownership_verification"]["value"] in html
    assert f"_acme-challenge.{HOST}" in html
    assert stored["ssl"]["validation_records"][0]["txt_value"] in html
    assert 'data-cloudflare-status="pending"' in html


@pytest.mark.django_db
def test_a_name_cloudflare_refuses_is_refused_with_its_reason_and_nothing_stored(
    premium: Any, fake_cloudflare: FakeCloudflare
) -> None:
    name = "shop" + REFUSED_SUFFIX
    response = _owner_client(premium).post("/manage/domains/add/", {"hostname": name})
    html = response.content.decode()
    assert f"Cloudflare does not accept {name}" in html
    assert "not allowed" in html
    assert _rows(premium) == []
    assert fake_cloudflare.hostnames == {}


@pytest.mark.django_db
def test_a_rate_limited_add_says_try_again_later_and_changes_nothing(
    premium: Any, fake_cloudflare: FakeCloudflare
) -> None:
    fake_cloudflare.fail_next(3, status=429)  # one try and the SDK's two retries
    response = _owner_client(premium).post("/manage/domains/add/", {"hostname": HOST})
    assert "Try again later" in response.content.decode()
    assert _rows(premium) == []
    assert fake_cloudflare.hostnames == {}
    # Later it goes through.
    domain = _add(premium)
    assert domain.cloudflare_id == fake_cloudflare.by_name(HOST)["id"]  # type: ignore[index]


@pytest.mark.django_db
def test_an_orphan_in_the_zone_is_replaced_not_inherited(
    premium: Any, fake_cloudflare: FakeCloudflare
) -> None:
    orphan = fake_cloudflare.seed(HOST)
    fake_cloudflare.activate(HOST)  # validated for someone else, long ago
    domain = _add(premium)
    assert domain.cloudflare_id != orphan["id"]
    assert orphan["id"] not in fake_cloudflare.hostnames
    assert domain.cloudflare_state["status"] == "pending"
    methods = [m for m, _ in fake_cloudflare.requests]
    # The SDK retries the 409 like any conflict; then the orphan is found, deleted and
    # the name created afresh.
    assert methods[-3:] == ["GET", "DELETE", "POST"]
    assert set(methods[:-3]) == {"POST"}


# --- checking ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_active_only_when_dns_proof_and_cloudflare_both_say_so(
    premium: Any, fake_cloudflare: FakeCloudflare, dns_server: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    pending = _check(premium, domain)
    assert pending.status == Status.PENDING
    assert "Cloudflare has not finished validating" in pending.failure_reason
    fake_cloudflare.activate(HOST)
    active = _check(premium, domain)
    assert active.status == Status.ACTIVE
    with school_context(premium.school):
        active.refresh_from_db()
    assert active.cloudflare_state["status"] == "active"
    assert active.cloudflare_state["records"] == []


@pytest.mark.django_db
def test_cloudflare_active_without_our_own_proof_is_not_enough(
    premium: Any, fake_cloudflare: FakeCloudflare, dns_server: Any
) -> None:
    # A CNAME left behind by a former owner makes Cloudflare activate the name; our
    # TXT token is still missing, so the school does not get the domain.
    domain = _add(premium)
    fake_cloudflare.activate(HOST)
    dns_server.serve(cname={HOST: "alpha.localhost"})
    assert _check(premium, domain).status == Status.PENDING


@pytest.mark.django_db
def test_cloudflare_unreachable_is_couldnt_check_never_a_failure(
    premium: Any, fake_cloudflare: FakeCloudflare, dns_server: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    fake_cloudflare.activate(HOST)
    assert _check(premium, domain).status == Status.ACTIVE
    fake_cloudflare.fail_next(3, status=429)
    again = _check(premium, domain)
    assert again.status == Status.ACTIVE  # unchanged
    assert again.last_check["outcome"] == "unknown"
    assert "Try again later" in again.last_check["reason"]


@pytest.mark.django_db
def test_an_active_domain_cloudflare_drops_turns_failing(
    premium: Any, fake_cloudflare: FakeCloudflare, dns_server: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    fake_cloudflare.activate(HOST)
    assert _check(premium, domain).status == Status.ACTIVE
    fake_cloudflare.set_status(HOST, "moved")
    failing = _check(premium, domain)
    assert failing.status == Status.FAILING
    assert failing.failing_since is not None


# --- removing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_removing_deletes_the_custom_hostname_after_commit(
    premium: Any, fake_cloudflare: FakeCloudflare, django_capture_on_commit_callbacks: Any
) -> None:
    domain = _add(premium)
    with django_capture_on_commit_callbacks(execute=True), school_context(premium.school):
        services.remove_domain(school=premium.school, actor=premium.owner, domain_id=domain.pk)
    assert fake_cloudflare.hostnames == {}


# --- the periodic re-verify polls Cloudflare too -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_periodic_check_polls_cloudflare(
    premium: Any, fake_cloudflare: FakeCloudflare, dns_server: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    [first] = verify_custom_domains()
    assert (first.before, first.after) == ("pending", "pending")
    fake_cloudflare.activate(HOST)
    with school_context(premium.school):
        CustomDomain.objects.filter(pk=domain.pk).update(last_checked_at=None)
    [second] = verify_custom_domains()
    assert (second.before, second.after) == ("pending", "active")
    gets = [p for m, p in fake_cloudflare.requests if m == "GET"]
    assert len(gets) == 2 and all(p.endswith(domain.cloudflare_id) for p in gets)
