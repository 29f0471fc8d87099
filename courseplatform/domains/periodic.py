"""Re-verify every school's custom domains: ``manage.py verify_custom_domains``.

Run every minute by ``scripts/serve.py`` (one of its periodic jobs, killed after
``PERIODIC_TIMEOUT_SECONDS``). Each run picks the live domains whose last check is
older than ``CUSTOM_DOMAIN_CHECK_MINUTES`` (at most ``limit``, never checked first,
then the oldest) and starts no new lookup after ``budget_seconds``, so an idle run
costs one query and a slow one ends in time. The cross-school scan is read-only,
inside ``platform_bypass(audit=False)``; the DNS lookups run in a few threads
(network waits, no database); each result is then applied as its own school
(``school_context``, the runtime role under row-level security) through
``services.apply_check``, which audits and emails only the status changes:
active → failing (proof gone), pending/failing → active. A lookup that times out
changes nothing but the time of the check. Domains still pending
``CUSTOM_DOMAIN_PENDING_DAYS`` after they were added are removed first (audited), so
an unproven claim cannot keep a name from its real owner.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation

from courseplatform.accounts.language import recipient_language
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context

from . import automated
from .cloudflare import HostnameState
from .models import CustomDomain
from .selectors import DueDomain, domains_due_for_check, stale_pending_domains
from .services import DomainError, apply_check, expire_pending
from .verification import CheckResult, check_dns

logger = logging.getLogger(__name__)

SCAN_REASON = "custom domains: periodic DNS re-verification"
LOOKUP_THREADS = 16
# A run starts no new lookup after this long, so it ends well within the supervisor's
# per-run timeout even when DNS is slow everywhere; what is left is due next run.
RUN_BUDGET_SECONDS = 60.0


def expire_pending_domains(*, now: datetime, limit: int) -> int:
    """Remove domains pending for more than ``CUSTOM_DOMAIN_PENDING_DAYS``; how many."""
    added_before = now - timedelta(days=settings.CUSTOM_DOMAIN_PENDING_DAYS)
    with platform_bypass(actor=None, reason=SCAN_REASON, audit=False):
        stale = stale_pending_domains(added_before=added_before, limit=limit)
        schools = School.objects.in_bulk({school_id for _, school_id in stale})
    removed = 0
    for domain_id, school_id in stale:
        school = schools[school_id]
        with school_context(school):
            removed += expire_pending(school=school, domain_id=domain_id, added_before=added_before)
    return removed


@dataclass(frozen=True)
class Checked:
    hostname: str
    school_id: int
    before: str
    after: str
    outcome: str


def verify_custom_domains(
    *, now: datetime | None = None, limit: int = 500, budget_seconds: float = RUN_BUDGET_SECONDS
) -> list[Checked]:
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds
    every = timedelta(minutes=settings.CUSTOM_DOMAIN_CHECK_MINUTES)
    expire_pending_domains(now=now, limit=limit)
    with platform_bypass(actor=None, reason=SCAN_REASON, audit=False):
        due = domains_due_for_check(now=now, every=every, limit=limit)
        schools = {
            school.pk: school
            for school in School.objects.filter(pk__in={d.school_id for d in due}).select_related(
                "plan"
            )
        }
    if not due:
        return []

    polls_cloudflare = automated.is_enabled()

    def _lookup(item: DueDomain) -> tuple[CheckResult, HostnameState | None] | None:
        if time.monotonic() > deadline:
            return None  # out of time: still due, checked by the next run
        school = schools[item.school_id]
        # The findings are kept and shown to the school's owners: in the school's language
        # (this thread has none of its own).
        with translation.override(recipient_language(school=school, user=None)):
            return _check(school, item)

    def _check(school: School, item: DueDomain) -> tuple[CheckResult, HostnameState | None]:
        if polls_cloudflare:
            # Automated mode: the DNS proof and Cloudflare's hostname/certificate status.
            return automated.check(
                school=school,
                hostname=item.hostname,
                token=item.token,
                cloudflare_id=item.cloudflare_id,
            )
        return check_dns(school=school, hostname=item.hostname, token=item.token), None

    with ThreadPoolExecutor(max_workers=min(LOOKUP_THREADS, len(due))) as pool:
        answers = list(pool.map(_lookup, due))

    checked: list[Checked] = []
    for item, answer in zip(due, answers, strict=True):
        if answer is None:
            continue
        result, state = answer
        school = schools[item.school_id]
        with school_context(school):
            domain = CustomDomain.objects.filter(pk=item.pk, school=school).first()
            if domain is None:
                continue
            automated.store_state(domain=domain, state=state)
            before = domain.status
            try:
                domain = apply_check(school=school, domain=domain, result=result, now=now)
            except DomainError:  # removed between the scan and now
                continue
        checked.append(
            Checked(item.hostname, item.school_id, before, domain.status, result.outcome.value)
        )
    return checked
