"""Writes on a school's custom domains: add, check, make primary, remove.

Keyword-only, school first. Only the school's owner manages domains (a domain decides
where the school answers, like its settings): ``PermissionDenied`` for anyone else,
``Http404`` for another school's domain (the same as a missing id), ``DomainError``
with a message for the person. Every change is audited (``domain.added``,
``domain.checked``, ``domain.activated``, ``domain.failed``, ``domain.primary_changed``,
``domain.removed``); owners are emailed when a domain becomes active and when an active
one fails. Hooks registered with ``on_domain_change`` run after every commit that
changes what a hostname serves (the host-lookup cache, the edge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.usage import Meter, measure

from . import automated
from .hostnames import display_hostname, dns_names, normalize_hostname
from .models import HOSTNAME_UNIQUE_CONSTRAINT, CustomDomain
from .selectors import get_live_domain
from .verification import CheckResult, Outcome, apex_supported, check_dns

logger = logging.getLogger(__name__)

Status = CustomDomain.Status
NOT_OWNER = gettext_lazy("Only the school owner can manage its domains.")
HELD_ELSEWHERE = gettext_lazy(
    "%(name)s is already connected to another school on this platform. If it is yours, "
    "remove it there first (or ask its owner to); then add it here with your own DNS proof."
)


class DomainError(Exception):
    """A refusal with a message for the person."""


# --- hooks: who wants to know when a hostname changes what it serves -------------------

DomainHook = Callable[[str], None]
_hooks: dict[str, DomainHook] = {}


def on_domain_change(name: str, hook: DomainHook) -> None:
    """Call ``hook(hostname)`` after each commit that changes a domain's status, primary
    flag or existence (registered in an AppConfig.ready; a name registers once)."""
    _hooks[name] = hook


def _changed(hostname: str) -> None:
    def _run() -> None:
        for name, hook in list(_hooks.items()):
            try:
                hook(hostname)
            except Exception:  # one broken listener must not hide the change from others
                logger.exception("domain change hook %s failed for %s", name, hostname)

    transaction.on_commit(_run)


# --- writes ---------------------------------------------------------------------------


def _lock_school(school: School) -> School:
    return School.objects.select_for_update(of=("self",)).select_related("plan").get(pk=school.pk)


def add_domain(*, school: School, actor: Any, hostname: str, ip: str | None = None) -> CustomDomain:
    """Add ``hostname`` as a pending domain of ``school`` with a fresh token."""
    permissions.require_school_owner(school, actor, message=str(NOT_OWNER))
    name = normalize_hostname(hostname)  # ValidationError with the reason
    if dns_names(name).is_apex and not apex_supported():
        raise DomainError(
            gettext(
                "%(name)s is a root domain, which needs A/AAAA records, and this platform has "
                "no addresses for those yet: use a subdomain such as www.%(name)s or "
                "learn.%(name)s."
            )
            % {"name": name}
        )
    try:
        with transaction.atomic():
            # One decision per school at a time, so two requests cannot both pass the limit.
            locked = _lock_school(school)
            limit = locked.plan.max_custom_domains
            if limit == 0:
                raise DomainError(
                    gettext(
                        "Custom domains are not included in the %(plan)s plan. Upgrade to "
                        "Premium (1 domain) or Enterprise (10 domains) to use your own domain."
                    )
                    % {"plan": locked.plan.name}
                )
            if limit is not None and measure(Meter.CUSTOM_DOMAINS, school=school) >= limit:
                raise DomainError(
                    ngettext(
                        "Your %(plan)s plan includes %(limit)s custom domain. "
                        "Remove one or upgrade to add another.",
                        "Your %(plan)s plan includes %(limit)s custom domains. "
                        "Remove one or upgrade to add another.",
                        limit,
                    )
                    % {"plan": locked.plan.name, "limit": limit}
                )
            if (
                CustomDomain.objects.filter(school=school, hostname=name)
                .exclude(status=Status.REMOVED)
                .exists()
            ):
                raise DomainError(
                    gettext("%(name)s is already one of your domains.") % {"name": name}
                )
            domain = CustomDomain.objects.create(school=school, hostname=name)
            if automated.is_enabled():
                # Cloudflare for SaaS: the custom hostname is created with the row; a
                # refusal (invalid name, rate limit) rolls the add back.
                try:
                    automated.register(domain=domain)
                except automated.CloudflareRefused as refused:
                    raise DomainError(refused.message) from None
            record_audit(
                school=school,
                actor=actor,
                action="domain.added",
                target=domain,
                data={"hostname": name},
                ip=ip,
            )
    except IntegrityError as error:
        # Under row-level security this school cannot see another school's rows; the
        # partial unique index sees them all, without a race.
        if HOSTNAME_UNIQUE_CONSTRAINT in str(error):
            raise DomainError(str(HELD_ELSEWHERE) % {"name": name}) from None
        raise
    _changed(name)
    return domain


def _require_domain(school: School, actor: Any, domain_id: int) -> CustomDomain:
    try:
        domain = get_live_domain(school, domain_id)
    except CustomDomain.DoesNotExist:
        raise Http404("No such domain.") from None
    permissions.require_school_owner(school, actor, domain, message=str(NOT_OWNER))
    return domain


def owner_domain(*, school: School, actor: Any, domain_id: int) -> CustomDomain:
    """One of ``school``'s live domains for its owner (404 for another school's)."""
    return _require_domain(school, actor, domain_id)


def set_primary(
    *, school: School, actor: Any, domain_id: int, primary: bool, ip: str | None = None
) -> CustomDomain:
    """Make the domain the school's main address (or stop it being one)."""
    domain = _require_domain(school, actor, domain_id)
    with transaction.atomic():
        _lock_school(school)
        domain = CustomDomain.objects.select_for_update().get(pk=domain.pk, school=school)
        if domain.is_primary == primary:
            return domain
        if primary and not domain.serves_traffic():
            raise DomainError(
                gettext(
                    "%(name)s is not serving your school yet: it can become the main "
                    "address once its DNS records are verified."
                )
                % {"name": domain.hostname}
            )
        previous = list(
            CustomDomain.objects.filter(school=school, is_primary=True).values_list(
                "hostname", flat=True
            )
        )
        if primary:
            CustomDomain.objects.filter(school=school, is_primary=True).update(is_primary=False)
        domain.is_primary = primary
        domain.save(update_fields=["is_primary", "updated_at"])
        record_audit(
            school=school,
            actor=actor,
            action="domain.primary_changed",
            target=domain,
            data={"hostname": domain.hostname, "primary": primary, "previous": previous},
            ip=ip,
        )
    for hostname in {*previous, domain.hostname}:
        _changed(hostname)
    return domain


def remove_domain(*, school: School, actor: Any, domain_id: int, ip: str | None = None) -> None:
    """Stop serving the domain at once and free its hostname."""
    domain = _require_domain(school, actor, domain_id)
    with transaction.atomic():
        updated = (
            CustomDomain.objects.filter(pk=domain.pk, school=school)
            .exclude(status=Status.REMOVED)
            .update(
                status=Status.REMOVED,
                is_primary=False,
                removed_at=timezone.now(),
                updated_at=timezone.now(),
            )
        )
        if not updated:
            return
        automated.unregister(hostname=domain.hostname, cloudflare_id=domain.cloudflare_id)
        record_audit(
            school=school,
            actor=actor,
            action="domain.removed",
            target=domain,
            data={"hostname": domain.hostname, "was": domain.status},
            ip=ip,
        )
    _changed(domain.hostname)


def expire_pending(*, school: School, domain_id: int, added_before: datetime) -> bool:
    """Remove a domain that stayed pending since before ``added_before`` (never proved):
    an unproven claim must not hold a name away from its real owner for ever. Audited
    as ``domain.removed`` with the reason; True when it was removed."""
    with transaction.atomic():
        domain = (
            CustomDomain.objects.select_for_update()
            .filter(
                pk=domain_id,
                school=school,
                status=Status.PENDING,
                created_at__lt=added_before,
            )
            .first()
        )
        if domain is None:
            return False
        now = timezone.now()
        domain.status = Status.REMOVED
        domain.removed_at = now
        domain.save(update_fields=["status", "removed_at", "updated_at"])
        record_audit(
            school=school,
            actor=None,
            action="domain.removed",
            target=domain,
            data={"hostname": domain.hostname, "was": "pending", "reason": "never verified"},
        )
    _changed(domain.hostname)
    return True


def check_domain_now(
    *, school: School, actor: Any, domain_id: int, ip: str | None = None
) -> CustomDomain:
    """ "Check now": look the records up and apply what they say (audited)."""
    domain = _require_domain(school, actor, domain_id)
    if automated.is_enabled():
        result, state = automated.check(
            school=school,
            hostname=domain.hostname,
            token=domain.verification_token,
            cloudflare_id=domain.cloudflare_id,
        )
        automated.store_state(domain=domain, state=state)
    else:
        result = check_dns(school=school, hostname=domain.hostname, token=domain.verification_token)
    return apply_check(school=school, domain=domain, result=result, actor=actor, ip=ip, audit=True)


def apply_check(
    *,
    school: School,
    domain: CustomDomain,
    result: CheckResult,
    actor: Any = None,
    ip: str | None = None,
    audit: bool = False,
    now: datetime | None = None,
) -> CustomDomain:
    """Move ``domain`` along its lifecycle by one DNS check's ``result``.

    verified: pending/failing → active. unverified: an active domain turns failing
    (serving on through the grace period), a pending one stays pending with the reason.
    unknown (timeout, SERVFAIL): nothing changes but the record of the check. Each
    manual check is audited (``audit=True``); periodic ones only when the status changes.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            domain = CustomDomain.objects.select_for_update().get(pk=domain.pk, school=school)
        except CustomDomain.DoesNotExist:
            raise DomainError(gettext("This domain was removed meanwhile.")) from None
        if domain.status == Status.REMOVED:
            raise DomainError(gettext("This domain was removed meanwhile."))
        before = domain.status
        domain.last_check = result.as_json()
        domain.last_checked_at = now
        if result.outcome == Outcome.VERIFIED:
            domain.failure_reason = ""
            if before != Status.ACTIVE:
                domain.status = Status.ACTIVE
                domain.failing_since = None
                domain.activated_at = now
        elif result.outcome == Outcome.UNVERIFIED:
            domain.failure_reason = result.reason[:500]
            if before == Status.ACTIVE:
                domain.status = Status.FAILING
                domain.failing_since = now
        domain.save()
        changed = domain.status != before
        if audit:
            record_audit(
                school=school,
                actor=actor,
                action="domain.checked",
                target=domain,
                data={
                    "hostname": domain.hostname,
                    "outcome": result.outcome.value,
                    "reason": result.reason[:500],
                },
                ip=ip,
            )
        if changed:
            action = "domain.activated" if domain.status == Status.ACTIVE else "domain.failed"
            record_audit(
                school=school,
                actor=actor,
                action=action,
                target=domain,
                data={"hostname": domain.hostname, "from": before, "reason": result.reason[:500]},
                ip=ip,
            )
            _email_owners(school, domain, action)
    if changed:
        _changed(domain.hostname)
    return domain


def _email_owners(school: School, domain: CustomDomain, action: str) -> None:
    owners = list(
        User.objects.filter(school=school, role=permissions.OWNER, is_active=True).order_by("pk")
    )
    hostname = display_hostname(domain.hostname)
    context = {
        "domain": domain,
        "hostname": hostname,
        "manage_url": school_url(school, "/manage/domains/"),
        "grace_ends_at": domain.grace_ends_at(),
    }
    # Lazy subjects: send_school_email writes each in its owner's language.
    subject: StrOrPromise
    if action == "domain.activated":
        subject = format_lazy(
            gettext_lazy("{hostname} now serves {school}"), hostname=hostname, school=school.name
        )
        template = "domains/email/activated"
    else:
        subject = format_lazy(gettext_lazy("{hostname} lost its DNS records"), hostname=hostname)
        template = "domains/email/failing"

    def _send() -> None:
        for owner in owners:
            try:
                send_school_email(
                    school=school,
                    user=owner,
                    subject=subject,
                    template=template,
                    context=context,
                )
            except Exception:  # a mail server hiccup must not undo the status change
                logger.exception("could not email %s about %s", owner.pk, hostname)

    transaction.on_commit(_send)


__all__ = [
    "DomainError",
    "ValidationError",
    "add_domain",
    "apply_check",
    "check_domain_now",
    "expire_pending",
    "on_domain_change",
    "owner_domain",
    "remove_domain",
    "set_primary",
]
