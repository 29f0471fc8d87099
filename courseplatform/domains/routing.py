"""Custom domains in host resolution: which school a hostname serves, and a school's
primary hostname. Installed into ``tenancy.custom_hosts`` by ``DomainsConfig.ready``.

Both answers are cached (Redis, ``SCHOOL_CACHE_SECONDS``) and forgotten on every
change of a domain (``signals.py``): now and again after the transaction commits, so a
lookup that read the old row meanwhile cannot keep it. The cache holds the domain's
status and ``failing_since``, not a yes/no, so the end of a grace period takes effect
at the exact time without any write or expiry. A hostname's school is then taken from
tenancy's own school cache, which follows suspensions, renames and plan changes: a
school moved to a plan without custom domains stops being served on them at once
(and its links point at its subdomain again), while its domains are kept.

A school's primary is also kept in each web process while it hears every change
(``tenancy/heard.py``): ``forget_domain`` announces the schools concerned, and a plan
change announces everything. The platform subdomain of every school asks for it on
every request (the primary-domain redirect), so this saves a Redis round trip on each.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from courseplatform.tenancy.broadcast import announce_change
from courseplatform.tenancy.heard import HeardCopies
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import get_school_by_slug

from .models import CustomDomain, serves_traffic
from .selectors import lookup_hostname, plan_allows_domains

_MISSING = "missing"
# A school's primary domain: (hostname, status, failing_since), or ``_MISSING``.
PrimaryRow = tuple[str, str, datetime | None] | str
_primaries: HeardCopies[PrimaryRow] = HeardCopies(
    size=settings.SCHOOL_CACHE_SIZE, lifetime=settings.SCHOOL_CACHE_SECONDS
)


def host_cache_key(hostname: str) -> str:
    return f"domains:host:v1:{hostname}"


def primary_cache_key(school_id: int) -> str:
    return f"domains:primary:v1:{school_id}"


def primary_owner_key(hostname: str) -> str:
    # hostname -> the school whose cached primary it is, so a change of that hostname
    # (even its removal, after which no lookup finds its school) forgets that primary.
    return f"domains:primary-of:v1:{hostname}"


def school_for_host(hostname: str) -> School | None:
    """The school ``hostname`` serves right now (active, or failing within grace)."""
    key = host_cache_key(hostname)
    cached = cache.get(key)
    if cached is None:
        found = lookup_hostname(hostname)
        if found is None:
            cached = _MISSING
        else:
            slug = School.objects.filter(pk=found.school_id).values_list("slug", flat=True).first()
            cached = _MISSING if slug is None else (slug, found.status, found.failing_since)
        cache.set(key, cached, settings.SCHOOL_CACHE_SECONDS)
    if cached == _MISSING:
        return None
    slug, status, failing_since = cached
    if not serves_traffic(status, _as_datetime(failing_since)):
        return None
    school = get_school_by_slug(slug)
    # The plan is read from the school cache, which follows plan changes at once.
    return school if school is not None and plan_allows_domains(school) else None


def primary_host_of(school: School) -> str | None:
    """The school's primary custom hostname while it serves traffic, else None."""
    if not plan_allows_domains(school):
        return None
    heard = _primaries.get(school.pk)
    if heard is not None:
        cached = heard.value
    else:
        stamp = _primaries.begin()
        cached = _primary_row(school)
        _primaries.put(school.pk, cached, names=(f"school:{school.pk}",), stamp=stamp)
    if isinstance(cached, str):  # _MISSING
        return None
    hostname, status, failing_since = cached
    return hostname if serves_traffic(status, _as_datetime(failing_since)) else None


def _primary_row(school: School) -> PrimaryRow:
    key = primary_cache_key(school.pk)
    cached = cache.get(key)
    if cached is None:
        with school_context(school):
            row = (
                CustomDomain.objects.filter(school=school, is_primary=True)
                .exclude(status=CustomDomain.Status.REMOVED)
                .values_list("hostname", "status", "failing_since")
                .first()
            )
        cached = _MISSING if row is None else tuple(row)
        if row is not None:
            cache.set(primary_owner_key(row[0]), school.pk, settings.SCHOOL_CACHE_SECONDS)
        cache.set(key, cached, settings.SCHOOL_CACHE_SECONDS)
    return cached


def _as_datetime(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def forget_domain(hostname: str, *, school_id: int | None = None) -> None:
    """Every process looks ``hostname`` and its school's primary up again: the school
    given, the one that holds the name now, and the one whose cached primary it was."""
    keys = {host_cache_key(hostname), primary_owner_key(hostname)}
    schools = {school_id, cache.get(primary_owner_key(hostname))}
    found = lookup_hostname(hostname)
    if found is not None:
        schools.add(found.school_id)
    keys |= {primary_cache_key(pk) for pk in schools if isinstance(pk, int)}
    cache.delete_many(list(keys))
    # Pages the web processes keep in memory (ops/pagecache.py) were made on the old
    # routing (a subdomain that now redirects, a domain that no longer serves): every
    # copy of these schools' pages goes (all of them when no school is known).
    names: list[str | None] = [f"school:{pk}" for pk in schools if isinstance(pk, int)] or [None]
    announce_change(*names)

    def again() -> None:
        cache.delete_many(list(keys))
        announce_change(*names)

    transaction.on_commit(again)
