"""Does DNS prove that a school owns a domain? Asked with dnspython, never raising.

Two things must hold, and each is reported on its own so the page can show which
record is found, missing or pointing elsewhere:

* **routing**: a subdomain has a CNAME to the expected target
  (``CUSTOM_DOMAIN_TARGET``, default the school's own ``<slug>.PLATFORM_DOMAIN``); a
  zone apex (``example.com``), which cannot hold a CNAME, has A/AAAA records, all of
  them among ``CUSTOM_DOMAIN_IPV4`` / ``CUSTOM_DOMAIN_IPV6``. A subdomain whose DNS
  host flattens the CNAME into addresses passes the same address rule.
* **ownership**: a TXT record ``_courseplatform.<domain>`` holds the domain's token.

A lookup that times out or fails on the server's side (SERVFAIL, REFUSED, no
nameserver answering) proves nothing either way: the outcome is UNKNOWN ("couldn't
check, will retry"), and callers never turn that into a failure. Only definite answers
(NXDOMAIN, no record of that type, a different value) count against a domain.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from django.conf import settings
from django.utils.translation import gettext

from courseplatform.tenancy.models import School

from .hostnames import dns_names


class Outcome(StrEnum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    UNKNOWN = "unknown"


class State(StrEnum):
    FOUND = "found"
    MISSING = "missing"
    WRONG = "wrong"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ExpectedRecord:
    """One record the owner creates, as the page shows it."""

    type: str
    name: str
    value: str


@dataclass
class Finding:
    """What DNS said about one expected record (or record set)."""

    type: str
    name: str
    expected: list[str]
    state: State
    found: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class CheckResult:
    outcome: Outcome
    findings: list[Finding]
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "findings": [{**asdict(f), "state": f.state.value} for f in self.findings],
        }


def cname_target(school: School) -> str:
    return settings.CUSTOM_DOMAIN_TARGET or f"{school.slug}.{settings.PLATFORM_DOMAIN}"


def apex_supported() -> bool:
    return bool(settings.CUSTOM_DOMAIN_IPV4 or settings.CUSTOM_DOMAIN_IPV6)


def expected_records(*, school: School, hostname: str, token: str) -> list[ExpectedRecord]:
    """The exact records to create for ``hostname``."""
    names = dns_names(hostname)
    records: list[ExpectedRecord] = []
    if names.is_apex:
        records += [ExpectedRecord("A", hostname, ip) for ip in settings.CUSTOM_DOMAIN_IPV4]
        records += [ExpectedRecord("AAAA", hostname, ip) for ip in settings.CUSTOM_DOMAIN_IPV6]
    else:
        records.append(ExpectedRecord("CNAME", hostname, cname_target(school)))
    records.append(ExpectedRecord("TXT", names.txt_name, token))
    return records


class _Unknown(Exception):
    """The lookup proved nothing: timeout, SERVFAIL/REFUSED, no nameserver answered."""


def _resolver() -> dns.resolver.Resolver:
    timeout = float(settings.DNS_TIMEOUT_SECONDS)
    if not settings.DNS_RESOLVERS:
        try:
            resolver = dns.resolver.Resolver()  # the system's, from /etc/resolv.conf
        except dns.resolver.NoResolverConfiguration as error:
            raise _Unknown("no DNS resolver is configured") from error
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = []
        resolver.nameserver_ports = {}
        for entry in settings.DNS_RESOLVERS:
            host, port = _split_resolver(entry)
            resolver.nameservers.append(host)
            resolver.nameserver_ports[host] = port
    # ``lifetime`` bounds one query with its retries; ``timeout`` one try.
    resolver.lifetime = timeout
    resolver.timeout = max(0.5, timeout / 2)
    # Ask for fresh answers where the resolver allows it (no local cache here anyway).
    resolver.cache = None
    return resolver


def _split_resolver(entry: str) -> tuple[str, int]:
    """``1.1.1.1``, ``127.0.0.1:5353``, ``[2606:4700::1111]:53`` or a bare IPv6."""
    entry = entry.strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port)
    return entry, 53


def _query(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[str]:
    """The records of ``rdtype`` at ``name``; [] for NXDOMAIN or no such record."""
    try:
        answer = resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as error:
        raise _Unknown(str(error)) from error
    except dns.exception.DNSException as error:
        # Anything else from the library (malformed answer…) is not a definite "no".
        raise _Unknown(str(error)) from error
    wanted = dns.rdatatype.from_text(rdtype)
    values: list[str] = []
    for rrset in answer.response.answer:
        if rrset.rdtype != wanted or rrset.name != dns.name.from_text(name):
            continue
        for rdata in rrset:
            if wanted == dns.rdatatype.TXT:
                values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
            elif wanted == dns.rdatatype.CNAME:
                values.append(rdata.target.to_text().rstrip(".").lower())
            else:
                values.append(rdata.to_text())
    return values


def _addresses_match(addresses: list[str]) -> bool:
    allowed = {
        ipaddress.ip_address(ip)
        for ip in [*settings.CUSTOM_DOMAIN_IPV4, *settings.CUSTOM_DOMAIN_IPV6]
    }
    return bool(addresses) and all(ipaddress.ip_address(a) in allowed for a in addresses)


def _routing_finding(
    resolver: dns.resolver.Resolver, *, school: School, hostname: str, is_apex: bool
) -> Finding:
    ips = [*settings.CUSTOM_DOMAIN_IPV4, *settings.CUSTOM_DOMAIN_IPV6]
    if is_apex:
        addresses = _query(resolver, hostname, "A") + _query(resolver, hostname, "AAAA")
        finding = Finding("A/AAAA", hostname, ips, State.FOUND, addresses)
        if not addresses:
            finding.state = State.MISSING
            finding.message = gettext("No A or AAAA record at %(name)s yet.") % {"name": hostname}
        elif not _addresses_match(addresses):
            finding.state = State.WRONG
            finding.message = gettext("%(name)s points at %(addresses)s, not at our addresses.") % {
                "name": hostname,
                "addresses": ", ".join(addresses),
            }
        return finding
    target = cname_target(school)
    cnames = _query(resolver, hostname, "CNAME")
    finding = Finding("CNAME", hostname, [target], State.FOUND, cnames)
    if target in cnames:
        return finding
    if cnames:
        finding.state = State.WRONG
        finding.message = gettext("%(name)s is a CNAME to %(found)s, not to %(target)s.") % {
            "name": hostname,
            "found": ", ".join(cnames),
            "target": target,
        }
        return finding
    # No CNAME: a DNS host that flattens CNAMEs answers with our addresses instead.
    addresses = _query(resolver, hostname, "A") + _query(resolver, hostname, "AAAA")
    finding.found = addresses
    if ips and _addresses_match(addresses):
        return finding
    if addresses:
        finding.state = State.WRONG
        finding.message = gettext(
            "%(name)s has no CNAME; it points at %(addresses)s instead of %(target)s."
        ) % {"name": hostname, "addresses": ", ".join(addresses), "target": target}
    else:
        finding.state = State.MISSING
        finding.message = gettext("No CNAME record at %(name)s yet.") % {"name": hostname}
    return finding


def _ownership_finding(resolver: dns.resolver.Resolver, *, txt_name: str, token: str) -> Finding:
    values = _query(resolver, txt_name, "TXT")
    finding = Finding("TXT", txt_name, [token], State.FOUND, values)
    if token in (value.strip() for value in values):
        return finding
    if values:
        finding.state = State.WRONG
        finding.message = gettext(
            "The TXT record at %(name)s does not hold this domain's token."
        ) % {"name": txt_name}
    else:
        finding.state = State.MISSING
        finding.message = gettext("No TXT record at %(name)s yet.") % {"name": txt_name}
    return finding


def check_dns(*, school: School, hostname: str, token: str) -> CheckResult:
    """Look up the records that prove ``school`` owns ``hostname``. Never raises for
    DNS trouble: that is ``Outcome.UNKNOWN``."""
    names = dns_names(hostname)
    findings: list[Finding] = []
    try:
        resolver = _resolver()
        findings.append(
            _routing_finding(resolver, school=school, hostname=hostname, is_apex=names.is_apex)
        )
        findings.append(_ownership_finding(resolver, txt_name=names.txt_name, token=token))
    except _Unknown as trouble:
        done = {f.type for f in findings}
        for kind, name in (
            ("A/AAAA" if names.is_apex else "CNAME", hostname),
            ("TXT", names.txt_name),
        ):
            if kind not in done:
                findings.append(
                    Finding(
                        kind,
                        name,
                        [],
                        State.UNKNOWN,
                        message=gettext("The DNS lookup did not finish."),
                    )
                )
        return CheckResult(
            Outcome.UNKNOWN,
            findings,
            gettext("Couldn't check the DNS records right now (%(trouble)s); we will retry.")
            % {"trouble": trouble},
        )
    problems = [f.message for f in findings if f.state != State.FOUND]
    if problems:
        return CheckResult(Outcome.UNVERIFIED, findings, " ".join(problems))
    return CheckResult(Outcome.VERIFIED, findings, "")
