"""Reads of schools and plans shared by middleware, views and commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.http.request import split_domain_port

from . import hostcache
from .custom_hosts import primary_custom_host, school_for_custom_host
from .models import Plan, School
from .slugs import normalize_slug, slug_problem


def get_school_by_slug(slug: str) -> School | None:
    """The school at ``slug``: cached in this process and in Redis, checked against a
    version token in Redis on every call so changes apply at once (``hostcache``)."""
    slug = normalize_slug(slug)
    if slug_problem(slug) is not None:
        return None
    return hostcache.lookup(slug)


def forget_school(slug: str) -> None:
    """Make every process look ``slug`` up again (writes through the ORM do this
    themselves, ``signals.py``; this is for changes made around it)."""
    hostcache.school_changed(slug)


def is_slug_available(slug: str) -> bool:
    return not School.objects.filter(slug=normalize_slug(slug)).exists()


def get_plan(code: str) -> Plan:
    return Plan.objects.get(code=code)


@dataclass(frozen=True)
class HostMatch:
    kind: Literal["platform", "school", "unknown", "invalid"]
    school: School | None = None
    port: str = ""
    # The school was reached on one of its custom domains (not <slug>.PLATFORM_DOMAIN).
    custom_domain: bool = False


def resolve_host(raw_host: str) -> HostMatch:
    """Map a Host header to the platform, a school, or nothing.

    Exact ``PLATFORM_DOMAIN``, single-label ``<slug>.PLATFORM_DOMAIN`` and the custom
    domains that currently serve a school (``custom_hosts``) match; anything else
    (other domains, nested labels, IPs, unverified custom domains) is unknown.
    """
    domain, port = split_domain_port((raw_host or "").strip())
    if not domain:
        return HostMatch("invalid")
    domain = domain.rstrip(".")
    platform = settings.PLATFORM_DOMAIN
    if domain == platform:
        return HostMatch("platform", port=port)
    suffix = "." + platform
    if domain.endswith(suffix):
        label = domain[: -len(suffix)]
        if "." not in label:
            school = get_school_by_slug(label)
            if school is not None:
                return HostMatch("school", school, port=port)
        return HostMatch("unknown", port=port)
    school = school_for_custom_host(domain)
    if school is not None:
        return HostMatch("school", school, port=port, custom_domain=True)
    return HostMatch("unknown", port=port)


def school_url(
    school: School, path: str = "/", *, port: str | None = None, subdomain: bool = False
) -> str:
    """Absolute URL of ``path`` on ``school``'s own host: its primary custom domain
    while one serves, else (or with ``subdomain=True``) ``<slug>.PLATFORM_DOMAIN``."""
    port = settings.PLATFORM_PORT if port is None else port
    default_port = {"http": "80", "https": "443"}.get(settings.PLATFORM_SCHEME)
    primary = None if subdomain else primary_custom_host(school)
    netloc = primary or f"{school.slug}.{settings.PLATFORM_DOMAIN}"
    if port and port != default_port:
        netloc = f"{netloc}:{port}"
    return f"{settings.PLATFORM_SCHEME}://{netloc}{path}"


def platform_url(path: str = "/", *, port: str | None = None) -> str:
    port = settings.PLATFORM_PORT if port is None else port
    default_port = {"http": "80", "https": "443"}.get(settings.PLATFORM_SCHEME)
    netloc = settings.PLATFORM_DOMAIN
    if port and port != default_port:
        netloc = f"{netloc}:{port}"
    return f"{settings.PLATFORM_SCHEME}://{netloc}{path}"
