"""A school's own domain names (``learn.theirbrand.com``) and their ownership proof.

Lifecycle: PENDING (added, proof not seen yet) → ACTIVE (CNAME/A and the TXT token
found) → FAILING (an active domain whose proof disappeared; it keeps serving for
``CUSTOM_DOMAIN_GRACE_HOURS`` after ``failing_since``, then stops) → back to ACTIVE
when the proof returns, or REMOVED by the owner. Removed rows are kept (history,
audit targets) but free the hostname: uniqueness covers only rows that are not
removed, so another school can claim the name afterwards with its own token.

Uniqueness across schools is a database constraint, not a lookup: under row-level
security the runtime role cannot see other schools' rows, and a partial unique index
is checked against every row regardless of policies (and without a race).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel

HOSTNAME_UNIQUE_CONSTRAINT = "customdomain_hostname_unique_unless_removed"
ONE_PRIMARY_CONSTRAINT = "customdomain_one_primary_per_school"


def new_verification_token() -> str:
    """128 random bits, hex: the value of the ``_courseplatform.<domain>`` TXT record."""
    return secrets.token_hex(16)


class CustomDomain(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for DNS")
        ACTIVE = "active", _("Active")
        FAILING = "failing", _("Failing")
        REMOVED = "removed", _("Removed")

    hostname = models.CharField(max_length=253)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    is_primary = models.BooleanField(default=False)
    # The last check's findings, record by record, for the page ("found", "missing",
    # "points elsewhere" with what was found); see verification.CheckResult.as_json.
    last_check = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Automated mode (Cloudflare for SaaS, automated.py): the custom hostname's id and
    # Cloudflare's latest answer (statuses, the records it asks for, its errors).
    cloudflare_id = models.CharField(max_length=64, blank=True, default="")
    cloudflare_state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hostname", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hostname"],
                condition=~models.Q(status="removed"),
                name=HOSTNAME_UNIQUE_CONSTRAINT,
            ),
            models.UniqueConstraint(
                fields=["school"],
                condition=models.Q(is_primary=True),
                name=ONE_PRIMARY_CONSTRAINT,
            ),
            models.CheckConstraint(
                condition=models.Q(hostname=Lower("hostname")),
                name="customdomain_hostname_lowercase",
            ),
            # Only a domain that has proved itself can be the school's main address.
            models.CheckConstraint(
                condition=models.Q(is_primary=False) | models.Q(status__in=["active", "failing"]),
                name="customdomain_primary_only_when_verified",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failing") | models.Q(failing_since__isnull=False),
                name="customdomain_failing_has_since",
            ),
        ]
        indexes = [models.Index(fields=["school", "status"], name="customdomain_school_status")]

    def __str__(self) -> str:
        return self.hostname

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.REMOVED

    def grace_ends_at(self) -> datetime | None:
        if self.status != self.Status.FAILING or self.failing_since is None:
            return None
        return self.failing_since + timedelta(hours=settings.CUSTOM_DOMAIN_GRACE_HOURS)

    def serves_traffic(self, now: datetime | None = None) -> bool:
        """Whether requests for this hostname reach the school: active, or failing
        within the grace period. Routing and the TLS ``ask`` endpoint use this."""
        return serves_traffic(self.status, self.failing_since, now=now)


def serves_traffic(
    status: str, failing_since: datetime | None, *, now: datetime | None = None
) -> bool:
    """The one rule, also for rows read as plain values (the host lookup)."""
    if status == CustomDomain.Status.ACTIVE:
        return True
    if status != CustomDomain.Status.FAILING or failing_since is None:
        return False
    grace = timedelta(hours=settings.CUSTOM_DOMAIN_GRACE_HOURS)
    return (now or timezone.now()) < failing_since + grace
