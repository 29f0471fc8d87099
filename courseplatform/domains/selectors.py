"""Reads of custom domains: a school's own (under RLS) and the host lookup."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from courseplatform.tenancy.models import School

from .models import CustomDomain


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


def lookup_hostname(hostname: str) -> tuple[int, str, object, bool] | None:
    """``(school_id, status, failing_since, is_primary)`` of the live domain named
    ``hostname`` in any school, or None. For host resolution, which runs before a
    school is set: on PostgreSQL through ``domains_lookup_hostname`` (a SECURITY
    DEFINER function, migration 0002) that answers for one exact name only, so the
    runtime role can ask "who serves this host?" but cannot list other schools' domains.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT school_id, status, failing_since, is_primary "
                "FROM domains_lookup_hostname(%s)",
                [hostname],
            )
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])
    # SQLite (embedded default): no row-level security, a plain query.
    found = (
        CustomDomain.objects.filter(hostname=hostname)
        .exclude(status=CustomDomain.Status.REMOVED)
        .values_list("school_id", "status", "failing_since", "is_primary")
        .first()
    )
    return None if found is None else (found[0], found[1], found[2], found[3])
