"""Subdomain (school slug) rules shared by forms, services and the model."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

SLUG_MIN = 3
SLUG_MAX = 40
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Names a school can never take: infrastructure hosts, our own product words and
# names that would let a school impersonate the platform or its staff.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "administrator",
        "app",
        "apps",
        "static",
        "media",
        "mail",
        "email",
        "smtp",
        "imap",
        "pop",
        "ftp",
        "ns1",
        "ns2",
        "dns",
        "cdn",
        "assets",
        "img",
        "images",
        "video",
        "videos",
        "files",
        "uploads",
        "status",
        "health",
        "healthz",
        "readyz",
        "metrics",
        "help",
        "support",
        "docs",
        "blog",
        "about",
        "billing",
        "pay",
        "account",
        "accounts",
        "login",
        "logout",
        "signup",
        "register",
        "auth",
        "oauth",
        "sso",
        "dashboard",
        "manage",
        "console",
        "platform",
        "root",
        "staff",
        "security",
        "test",
        "dev",
        "staging",
        "demo-platform",
        "courseplatform",
        "system",
        "internal",
        "localhost",
        "webmail",
        "autodiscover",
        "autoconfig",
        "mx",
        "vpn",
        "git",
    }
)


def normalize_slug(value: str) -> str:
    return (value or "").strip().lower()


def slug_problem(value: str) -> str | None:
    """The reason ``value`` (already normalised) cannot be a school slug, or None."""
    if len(value) < SLUG_MIN:
        return _("Use at least %(count)d characters.") % {"count": SLUG_MIN}
    if len(value) > SLUG_MAX:
        return _("Use at most %(count)d characters.") % {"count": SLUG_MAX}
    if not _SLUG_RE.fullmatch(value):
        return _(
            "Use only lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    if "--" in value:
        return _("Two hyphens in a row are not allowed.")
    if value in RESERVED_SLUGS:
        return _("This subdomain is reserved.")
    return None


def validate_school_slug(value: str) -> None:
    problem = slug_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_slug")


def unique_slug(taken_in: QuerySet[Any], text: str, *, fallback: str, max_length: int = 70) -> str:
    """A slug for ``text`` not yet used in ``taken_in`` (a school-scoped queryset with a
    ``slug`` field): ``intro``, then ``intro-2``, ``intro-3``…"""
    base = (slugify(text) or fallback)[:max_length].strip("-") or fallback
    taken = set(taken_in.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
