"""Manual DNS verification against a real dnsmasq on loopback (tests/fixtures/dns.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from courseplatform.domains import services
from courseplatform.domains.models import CustomDomain
from courseplatform.domains.periodic import verify_custom_domains
from courseplatform.domains.selectors import lookup_hostname, primary_domain
from courseplatform.domains.verification import Outcome, State, check_dns
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context

Status = CustomDomain.Status
HOST = "learn.alpha-brand.test"


@pytest.fixture
def premium(make_school: Any) -> Any:
    return make_school("alpha", plan="premium")


def _add(created: Any, hostname: str = HOST) -> CustomDomain:
    with school_context(created.school):
        return services.add_domain(school=created.school, actor=created.owner, hostname=hostname)


def _check(created: Any, domain: CustomDomain) -> CustomDomain:
    with school_context(created.school):
        return services.check_domain_now(
            school=created.school, actor=created.owner, domain_id=domain.pk
        )


def _actions(created: Any) -> list[str]:
    with school_context(created.school):
        return list(
            AuditLog.objects.filter(school=created.school, action__startswith="domain.")
            .order_by("pk")
            .values_list("action", flat=True)
        )


def _proof(domain: CustomDomain, target: str = "alpha.localhost") -> dict[str, Any]:
    return {
        "cname": {domain.hostname: target},
        "txt": {f"_courseplatform.{domain.hostname}": domain.verification_token},
    }


@pytest.mark.django_db
def test_correct_cname_and_txt_activate_the_domain(
    premium: Any, dns_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    with django_capture_on_commit_callbacks(execute=True):
        domain = _check(premium, domain)
    assert domain.status == Status.ACTIVE and domain.activated_at is not None
    assert domain.failure_reason == ""
    states = {f["type"]: f["state"] for f in domain.last_check["findings"]}
    assert states == {"CNAME": "found", "TXT": "found"}
    assert _actions(premium) == ["domain.added", "domain.checked", "domain.activated"]
    assert [m.to for m in mail.outbox] == [[premium.owner.email]]
    assert HOST in mail.outbox[0].subject and "now serves" in mail.outbox[0].body
    found = lookup_hostname(HOST)
    assert found is not None and found.status == "active" and found.serves_traffic()


@pytest.mark.django_db
def test_missing_txt_leaves_the_domain_pending_with_that_reason(
    premium: Any, dns_server: Any
) -> None:
    domain = _add(premium)
    dns_server.serve(cname={HOST: "alpha.localhost"})
    domain = _check(premium, domain)
    assert domain.status == Status.PENDING
    assert f"No TXT record at _courseplatform.{HOST}" in domain.failure_reason
    states = {f["type"]: f["state"] for f in domain.last_check["findings"]}
    assert states == {"CNAME": "found", "TXT": "missing"}
    assert mail.outbox == []


@pytest.mark.django_db
def test_another_schools_token_proves_nothing(premium: Any, dns_server: Any) -> None:
    domain = _add(premium)
    dns_server.serve(cname={HOST: "alpha.localhost"}, txt={f"_courseplatform.{HOST}": "0" * 32})
    domain = _check(premium, domain)
    assert domain.status == Status.PENDING
    assert "does not hold this domain's token" in domain.failure_reason


@pytest.mark.django_db
def test_cname_to_another_target_is_shown(premium: Any, dns_server: Any) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain, target="shops.elsewhere.test"))
    domain = _check(premium, domain)
    assert domain.status == Status.PENDING
    assert "CNAME to shops.elsewhere.test, not to alpha.localhost" in domain.failure_reason
    [cname] = [f for f in domain.last_check["findings"] if f["type"] == "CNAME"]
    assert cname["state"] == "wrong" and cname["found"] == ["shops.elsewhere.test"]


@pytest.mark.django_db
def test_configured_target_and_flattened_addresses(premium: Any, dns_server: Any, settings) -> None:
    settings.CUSTOM_DOMAIN_TARGET = "edge.platform-cdn.test"
    settings.CUSTOM_DOMAIN_IPV4 = ["198.51.100.7"]
    domain = _add(premium)
    # A DNS host that flattens the CNAME answers with our address instead.
    dns_server.serve(
        a={HOST: "198.51.100.7"}, txt={f"_courseplatform.{HOST}": domain.verification_token}
    )
    assert _check(premium, domain).status == Status.ACTIVE
    dns_server.serve(
        a={HOST: "203.0.113.9"}, txt={f"_courseplatform.{HOST}": domain.verification_token}
    )
    result = check_dns(school=premium.school, hostname=HOST, token=domain.verification_token)
    assert result.outcome == Outcome.UNVERIFIED
    assert "points at 203.0.113.9 instead of edge.platform-cdn.test" in result.reason


@pytest.mark.django_db
def test_apex_domain_needs_our_addresses(make_school: Any, dns_server: Any, settings) -> None:
    settings.CUSTOM_DOMAIN_IPV4 = ["198.51.100.7"]
    settings.CUSTOM_DOMAIN_IPV6 = ["2001:db8::7"]
    enterprise = make_school("ent", plan="enterprise")
    domain = _add(enterprise, "alpha-brand.test")
    token = {"_courseplatform.alpha-brand.test": domain.verification_token}
    dns_server.serve(a={"alpha-brand.test": "198.51.100.8"}, txt=token)
    checked = _check(enterprise, domain)
    assert checked.status == Status.PENDING
    assert "points at 198.51.100.8, not at our addresses" in checked.failure_reason
    dns_server.serve(a={"alpha-brand.test": ["198.51.100.7", "2001:db8::7"]}, txt=token)
    assert _check(enterprise, domain).status == Status.ACTIVE


@pytest.mark.django_db
def test_a_dns_timeout_is_couldnt_check_never_a_failure(premium: Any, dns_blackhole: str) -> None:
    domain = _add(premium)
    with school_context(premium.school):
        CustomDomain.objects.filter(pk=domain.pk).update(
            status=Status.ACTIVE, activated_at=timezone.now()
        )
    domain = _check(premium, domain)
    assert domain.status == Status.ACTIVE and domain.failing_since is None
    assert domain.failure_reason == ""
    assert domain.last_check["outcome"] == "unknown"
    assert "Couldn't check" in domain.last_check["reason"]
    assert "will retry" in domain.last_check["reason"]
    assert {f["state"] for f in domain.last_check["findings"]} == {State.UNKNOWN.value}
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_refusing_server_is_couldnt_check_too(premium: Any, dns_server: Any, settings) -> None:
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    settings.DNS_RESOLVERS = [f"[::1]:{dns_server.port}", dns_server.resolver]
    # dnsmasq listens on 127.0.0.1 only; ::1 refuses the connection (ICMP): a second
    # server still answers, so the check goes through.
    assert _check(premium, domain).status == Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_records_removed_later_fail_then_stop_serving_after_grace(
    make_school: Any, dns_server: Any, settings
) -> None:
    settings.CUSTOM_DOMAIN_GRACE_HOURS = 48
    settings.CUSTOM_DOMAIN_CHECK_MINUTES = 10
    premium = make_school("alpha", plan="premium")
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    start = timezone.now()
    [first] = verify_custom_domains(now=start)
    assert (first.before, first.after) == ("pending", "active")
    with school_context(premium.school):
        services.set_primary(
            school=premium.school, actor=premium.owner, domain_id=domain.pk, primary=True
        )
    # Nothing is due again before CUSTOM_DOMAIN_CHECK_MINUTES have passed.
    assert verify_custom_domains(now=start + timedelta(minutes=5)) == []

    dns_server.serve()  # the owner deleted both records
    later = start + timedelta(minutes=11)
    [second] = verify_custom_domains(now=later)
    assert (second.before, second.after, second.outcome) == ("active", "failing", "unverified")
    with school_context(premium.school):
        domain = CustomDomain.objects.get(pk=domain.pk)
        assert domain.failing_since == later
        assert domain.serves_traffic(later + timedelta(hours=47))
        assert primary_domain(premium.school) == domain
        assert not domain.serves_traffic(later + timedelta(hours=48, seconds=1))
    assert [m.subject for m in mail.outbox] == [
        f"{HOST} now serves Alpha Academy",
        f"{HOST} lost its DNS records",
    ]
    assert "keeps serving" in mail.outbox[1].body

    # Checked again while failing: still failing, failing_since kept, no second email.
    [third] = verify_custom_domains(now=later + timedelta(hours=49))
    assert (third.before, third.after) == ("failing", "failing")
    assert len(mail.outbox) == 2
    with school_context(premium.school):
        domain = CustomDomain.objects.get(pk=domain.pk)
        assert domain.failing_since == later
        assert not domain.serves_traffic(later + timedelta(hours=49))
    # The records come back: active again.
    dns_server.serve(**_proof(domain))
    [fourth] = verify_custom_domains(now=later + timedelta(hours=50))
    assert (fourth.before, fourth.after) == ("failing", "active")
    actions = _actions(premium)
    assert actions.count("domain.activated") == 2 and actions.count("domain.failed") == 1
    assert "domain.checked" not in actions  # periodic checks audit only the changes


@pytest.mark.django_db(transaction=True)
def test_periodic_timeouts_change_nothing(make_school: Any, dns_blackhole: str) -> None:
    premium = make_school("alpha", plan="premium")
    domain = _add(premium)
    with school_context(premium.school):
        CustomDomain.objects.filter(pk=domain.pk).update(status=Status.ACTIVE)
    [item] = verify_custom_domains()
    assert (item.before, item.after, item.outcome) == ("active", "active", "unknown")
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_run_out_of_time_leaves_the_rest_for_the_next_run(
    make_school: Any, dns_server: Any
) -> None:
    premium = make_school("alpha", plan="premium")
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    assert verify_custom_domains(budget_seconds=0) == []
    with school_context(premium.school):
        assert CustomDomain.objects.get(pk=domain.pk).last_checked_at is None
    [item] = verify_custom_domains()
    assert item.after == "active"


@pytest.mark.django_db(transaction=True)
def test_a_claim_never_proved_is_removed_after_the_pending_days(
    make_school: Any, dns_blackhole: str, settings
) -> None:
    settings.CUSTOM_DOMAIN_PENDING_DAYS = 14
    squatter = make_school("alpha", plan="premium")
    owner = make_school("bravo", plan="premium")
    claim = _add(squatter)
    with school_context(squatter.school):
        added = CustomDomain.objects.get(pk=claim.pk).created_at
    verify_custom_domains(now=added + timedelta(days=13))
    assert lookup_hostname(HOST) is not None
    verify_custom_domains(now=added + timedelta(days=14, seconds=1))
    assert lookup_hostname(HOST) is None
    with school_context(squatter.school):
        assert CustomDomain.objects.get(pk=claim.pk).status == Status.REMOVED
        entry = AuditLog.objects.get(action="domain.removed")
    assert entry.data["reason"] == "never verified" and entry.actor_id is None
    assert _add(owner).status == Status.PENDING  # the real owner can claim it now


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_status_changes(make_school: Any, dns_server: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    premium = make_school("alpha", plan="premium")
    idle = StringIO()
    call_command("verify_custom_domains", stdout=idle)
    assert idle.getvalue() == "No custom domains due for a check.\n"
    domain = _add(premium)
    dns_server.serve(**_proof(domain))
    out = StringIO()
    call_command("verify_custom_domains", "--quiet", stdout=out)
    assert out.getvalue() == f"{HOST} (school {premium.school.pk}): pending → active [verified]\n"
    quiet = StringIO()
    call_command("verify_custom_domains", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""


@pytest.mark.django_db
def test_change_hooks_run_after_commit_and_survive_a_broken_one(
    premium: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    seen: list[str] = []

    def broken(hostname: str) -> None:
        raise RuntimeError("listener down")

    services.on_domain_change("test-broken", broken)
    services.on_domain_change("test-seen", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            domain = _add(premium)
        assert seen == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert seen == [HOST]
        assert "domain change hook test-broken failed" in caplog.text
        with django_capture_on_commit_callbacks(execute=True), school_context(premium.school):
            services.remove_domain(school=premium.school, actor=premium.owner, domain_id=domain.pk)
        assert seen == [HOST, HOST]
    finally:
        services._hooks.pop("test-broken", None)
        services._hooks.pop("test-seen", None)


def test_resolver_addresses_are_parsed(settings) -> None:
    from courseplatform.domains.verification import _resolver

    settings.DNS_RESOLVERS = ["192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:5300", "2001:db8::1"]
    settings.DNS_TIMEOUT_SECONDS = 4
    resolver = _resolver()
    assert resolver.nameservers == ["192.0.2.53", "127.0.0.1", "2001:db8::53", "2001:db8::1"]
    assert resolver.nameserver_ports == {
        "192.0.2.53": 53,
        "127.0.0.1": 5353,
        "2001:db8::53": 5300,
        "2001:db8::1": 53,
    }
    assert (resolver.lifetime, resolver.timeout) == (4, 2)


@pytest.mark.django_db
def test_without_any_resolver_configuration_the_check_is_unknown(
    premium: Any, settings, monkeypatch: Any
) -> None:
    import dns.resolver

    def no_configuration(*args: Any, **kwargs: Any) -> None:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    settings.DNS_RESOLVERS = []
    monkeypatch.setattr(dns.resolver.Resolver, "read_resolv_conf", no_configuration)
    result = check_dns(school=premium.school, hostname=HOST, token="0" * 32)
    assert result.outcome == Outcome.UNKNOWN
    assert "no DNS resolver is configured" in result.reason
