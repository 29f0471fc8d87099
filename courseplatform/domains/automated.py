"""Automated mode: custom domains served and certified by Cloudflare for SaaS.

On when ``CLOUDFLARE_API_TOKEN`` and ``CLOUDFLARE_ZONE_ID`` are set
(``cloudflare.is_enabled``). The school's own DNS proof stays exactly as in manual mode
(CNAME to ``CUSTOM_DOMAIN_TARGET``, which is then the SaaS zone's CNAME target, plus the
``_courseplatform`` TXT token): Cloudflare activates a custom hostname as soon as its
CNAME points at our zone, so a CNAME left behind by a former customer would otherwise be
enough to take the name over. Cloudflare adds its own two records (ownership TXT and
certificate validation TXT, ``cloudflare.py``), shown next to ours.

* **add**: ``register`` creates the custom hostname inside the add's transaction; if
  Cloudflare refuses (invalid name, rate limit) the add is refused with its message and
  nothing is stored. A name already in our zone is an orphan (another school holding
  it would have failed the database's unique index first): it is deleted and created
  afresh, so its earlier validation is not inherited.
* **check** (``Check now`` and the periodic re-verify): ``check`` combines the DNS
  proof with Cloudflare's hostname and certificate status. A domain becomes active
  only when both say so; an active one fails when either stops; Cloudflare being
  unreachable or rate-limited is "couldn't check, will retry", never a failure.
* **remove**: ``unregister`` deletes the custom hostname after the removal commits; if
  that fails the next add of the name clears the orphan.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from courseplatform.tenancy.models import School

from . import cloudflare
from .cloudflare import CloudflareProblem, HostnameState
from .models import CustomDomain
from .verification import CheckResult, Finding, Outcome, State, check_dns

logger = logging.getLogger(__name__)

CLOUDFLARE_FINDING = "Cloudflare"
PENDING_REASON = gettext_lazy(
    "Cloudflare has not finished validating this domain yet: create the records below "
    "(including Cloudflare's) and check again in a few minutes."
)


class CloudflareRefused(Exception):
    """Cloudflare would not take the domain; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_enabled() -> bool:
    return cloudflare.is_enabled()


def register(*, domain: CustomDomain) -> CustomDomain:
    """Create the custom hostname for a just-added domain and store what Cloudflare
    said. Raises ``CloudflareRefused`` (the caller's transaction then rolls back)."""
    try:
        try:
            state = cloudflare.create_hostname(domain.hostname)
        except CloudflareProblem as problem:
            if not problem.duplicate:
                raise
            orphan = cloudflare.find_hostname_id(domain.hostname)
            if orphan is not None:
                cloudflare.delete_hostname(orphan, hostname=domain.hostname)
            state = cloudflare.create_hostname(domain.hostname)
    except CloudflareProblem as problem:
        raise CloudflareRefused(problem.message) from problem
    domain.cloudflare_id = state.id
    domain.cloudflare_state = state.as_json()
    domain.save(update_fields=["cloudflare_id", "cloudflare_state", "updated_at"])
    return domain


def unregister(*, hostname: str, cloudflare_id: str) -> None:
    """Delete the custom hostname once the removal has committed (best effort)."""
    if not cloudflare_id:
        return

    def _delete() -> None:
        try:
            cloudflare.delete_hostname(cloudflare_id, hostname=hostname)
        except CloudflareProblem:
            logger.warning("Cloudflare: could not delete %s (%s)", hostname, cloudflare_id)

    transaction.on_commit(_delete)


def check(
    *, school: School, hostname: str, token: str, cloudflare_id: str
) -> tuple[CheckResult, HostnameState | None]:
    """The DNS proof and Cloudflare's verdict as one result (network only, no database).
    Returns Cloudflare's fresh state too (None when it could not be read)."""
    result = check_dns(school=school, hostname=hostname, token=token)
    if not cloudflare_id:
        finding = _finding(hostname, State.MISSING, gettext("not registered with Cloudflare yet"))
        return _combine(result, finding, Outcome.UNVERIFIED, str(PENDING_REASON)), None
    try:
        state = cloudflare.get_hostname(cloudflare_id, hostname=hostname)
    except CloudflareProblem as problem:
        if problem.not_found:
            finding = _finding(
                hostname, State.MISSING, gettext("Cloudflare no longer has this hostname")
            )
            return _combine(result, finding, Outcome.UNVERIFIED, problem.message), None
        finding = _finding(hostname, State.UNKNOWN, problem.message)
        return _combine(result, finding, Outcome.UNKNOWN, problem.message), None
    ready = state.hostname_active and state.certificate_active
    finding = _finding(
        hostname,
        State.FOUND if ready else State.MISSING,
        "; ".join(state.errors),
        found=[f"hostname {state.status or '?'}", f"certificate {state.ssl_status or '?'}"],
    )
    if ready:
        return _combine(result, finding, Outcome.VERIFIED, ""), state
    return _combine(result, finding, Outcome.UNVERIFIED, str(PENDING_REASON)), state


def _finding(hostname: str, state: State, message: str, found: list[str] | None = None) -> Finding:
    return Finding(
        type=CLOUDFLARE_FINDING,
        name=hostname,
        expected=["active"],
        state=state,
        found=found or [],
        message=message,
    )


def _combine(
    dns_result: CheckResult, finding: Finding, cloudflare_outcome: Outcome, reason: str
) -> CheckResult:
    """DNS first: its refusal or its "couldn't check" wins; Cloudflare decides the rest."""
    findings = [*dns_result.findings, finding]
    if dns_result.outcome != Outcome.VERIFIED:
        return replace(dns_result, findings=findings)
    return CheckResult(outcome=cloudflare_outcome, findings=findings, reason=reason)


def store_state(*, domain: CustomDomain, state: HostnameState | None) -> None:
    """Keep Cloudflare's latest answer (statuses and the records it still asks for)."""
    if state is None:
        return
    CustomDomain.objects.filter(pk=domain.pk, school_id=domain.school_id).update(
        cloudflare_state=state.as_json()
    )
