"""Cache keys of the public site, all carrying the school id.

A school's *site version* is a random token stored in the cache. Every cached
rendering (page bodies, the navigation menu) has it in its key, so bumping the
version — on publish, on page changes, and whenever something a dynamic block
shows changes (courses, instructors, videos) — makes all of them stale at once
without having to find and delete them. An evicted version is simply re-created.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

RENDER_TTL = 24 * 3600


def _version_key(school_id: int) -> str:
    return f"sites:v:{school_id}"


def site_version(school_id: int) -> str:
    key = _version_key(school_id)
    version = cache.get(key)
    if version is None:
        version = secrets.token_hex(6)
        if not cache.add(key, version, None):
            version = cache.get(key) or version
    return str(version)


def bump_site_version(school_id: int) -> None:
    cache.set(_version_key(school_id), secrets.token_hex(6), None)


def page_key(school_id: int, page_id: int, revision: str) -> str:
    return f"sites:page:{school_id}:{page_id}:{revision}:{site_version(school_id)}"


def nav_key(school_id: int) -> str:
    return f"sites:nav:{school_id}:{site_version(school_id)}"
