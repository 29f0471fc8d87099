"""Reads of custom domains: a school's own (under RLS) and the host lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Q, QuerySet

from courseplatform.tenancy.models import School

from .models import CustomDomain, serves_traffic


def plan_allows_domains(school: School) -> bool:
    """Whether the school's plan includes custom domains. A school moved to a plan
    without them keeps its domains (an upgrade brings them back) but none serves."""
    return school.plan.max_custom_domains != 0


def live_domains(school: School) -> QuerySet[CustomDomain]:
    """The school's domains that are not removed, primary first."""
    return (
        CustomDomain.objects.filter(school=school)
        .exclude(status=CustomDomain.Status.REMOVED)
        .order_by("-is_primary", "hostname")
    )


def get_live_domain(school: School, domain_id: int) -> CustomDomain:
    """One of the school's domains; another school's id is the same DoesNotExist as a
    missing one."""
    return live_domains(school).get(pk=domain_id)


def custom_domain_usage(school: School, exclude: object = None) -> float:
    """Plan meter ``custom_domains``: domains that are not removed."""
    queryset = live_domains(school)
    if isinstance(exclude, CustomDomain):
        queryset = queryset.exclude(pk=exclude.pk)
    return float(queryset.count())


@dataclass(frozen=True)
class HostnameOwner:
    """Who a hostname belongs to, as host resolution needs it (cacheable: plain values;
    ``serves_traffic`` is computed when asked, so a cached entry still stops serving when
    the grace period ends)."""

    school_id: int
    status: str
    failing_since: datetime | None
    is_primary: bool

    def serves_traffic(self, now: datetime | None = None) -> bool:
        return serves_traffic(self.status, self.failing_since, now=now)


def lookup_hostname(hostname: str) -> HostnameOwner | None:
    """The live domain named ``hostname`` (stored form) in any school, or None. For host
    resolution, which runs before a school is set: on PostgreSQL through
    ``domains_lookup_hostname`` (a SECURITY DEFINER function, migration 0002) that
    answers for one exact name only, so the runtime role can ask "who serves this
    host?" but cannot list other schools' domains. One query.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT school_id, status, failing_since, is_primary "
                "FROM domains_lookup_hostname(%s)",
                [hostname],
            )
            row = cursor.fetchone()
    else:
        # SQLite (embedded default): no row-level security, a plain query.
        row = (
            CustomDomain.objects.filter(hostname=hostname)
            .exclude(status=CustomDomain.Status.REMOVED)
            .values_list("school_id", "status", "failing_since", "is_primary")
            .first()
        )
    return None if row is None else HostnameOwner(row[0], row[1], row[2], row[3])


def primary_domain(school: School) -> CustomDomain | None:
    """The school's main address when it has one that serves traffic now (a primary
    domain failing past its grace period is not one)."""
    domain = live_domains(school).filter(is_primary=True).first()
    return domain if domain is not None and domain.serves_traffic() else None


def domains_due_for_check(*, now: datetime, every: timedelta, limit: int) -> list[DueDomain]:
    """Live domains of every school whose last check is older than ``every`` (never
    checked first, then the oldest). Only inside ``platform_bypass``: it reads across
    schools."""
    rows = (
        CustomDomain.objects.exclude(status=CustomDomain.Status.REMOVED)
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=now - every))
        .order_by(F("last_checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", "school_id", "hostname", "verification_token", "cloudflare_id")[:limit]
    )
    return [DueDomain(*row) for row in rows]


def stale_pending_domains(*, added_before: datetime, limit: int) -> list[tuple[int, int]]:
    """``(domain id, school id)`` of domains still pending that were added before
    ``added_before``, across schools. Only inside ``platform_bypass``."""
    rows = (
        CustomDomain.objects.filter(status=CustomDomain.Status.PENDING, created_at__lt=added_before)
        .order_by("created_at", "pk")
        .values_list("pk", "school_id")[:limit]
    )
    return [(pk, school_id) for pk, school_id in rows]


@dataclass(frozen=True)
class DueDomain:
    pk: int
    school_id: int
    hostname: str
    token: str
    cloudflare_id: str = ""  # automated mode (Cloudflare for SaaS), else empty
