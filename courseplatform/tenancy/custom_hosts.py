"""Hosts other than ``<slug>.PLATFORM_DOMAIN`` that serve a school: custom domains.

``tenancy`` resolves every request's host but knows no feature app, and custom domains
live in the ``domains`` app above it. That app hands its two lookups over in its
``AppConfig.ready`` (``serve_custom_hosts_with``):

* ``school_for_host(hostname)``: the school a custom hostname serves right now (an
  active or still-in-grace domain), else None. Called by ``resolve_host`` for every
  host that is neither the platform nor one of its subdomains, so it must answer
  from a cache.
* ``primary_host_of(school)``: the school's primary custom hostname while it serves,
  else None. Absolute links to a school (emails, login links, "view site") use it, and
  the school's platform subdomain redirects there.

Without a registration there are no custom hosts: every other host stays unknown (404),
the safe answer.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import School

SchoolForHost = Callable[[str], School | None]
PrimaryHostOf = Callable[[School], str | None]


def _no_school(hostname: str) -> School | None:
    return None


def _no_primary_host(school: School) -> str | None:
    return None


_lookups: dict[str, Callable[..., object]] = {
    "school_for_host": _no_school,
    "primary_host_of": _no_primary_host,
}


def serve_custom_hosts_with(
    *, school_for_host: SchoolForHost, primary_host_of: PrimaryHostOf
) -> None:
    """Install the custom-domain lookups (called once, from the domains app's ready())."""
    _lookups["school_for_host"] = school_for_host
    _lookups["primary_host_of"] = primary_host_of


def school_for_custom_host(hostname: str) -> School | None:
    """The school the custom ``hostname`` (lowercase, no port, no trailing dot) serves."""
    lookup: SchoolForHost = _lookups["school_for_host"]  # type: ignore[assignment]
    return lookup(hostname)


def primary_custom_host(school: School) -> str | None:
    lookup: PrimaryHostOf = _lookups["primary_host_of"]  # type: ignore[assignment]
    return lookup(school)
