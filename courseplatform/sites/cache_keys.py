"""Cache keys of the public site, all carrying the school id.

Every cached rendering (page bodies, the navigation menu, the theme) has the school's
*content generation* (``tenancy.generation``) in its key, so bumping it — on publish,
on page and theme changes, and whenever something a dynamic block shows changes
(courses, instructors, videos; ``signals.py``) — makes all of them stale at once
without having to find and delete them. An evicted token is simply re-created.
"""

from __future__ import annotations

from django.utils.translation import get_language

from courseplatform.tenancy.generation import bump_content_generation, content_generation

RENDER_TTL = 24 * 3600


def site_version(school_id: int) -> str:
    return content_generation(school_id)


def bump_site_version(school_id: int) -> None:
    bump_content_generation(school_id)


def page_key(school_id: int, page_id: int, revision: str) -> str:
    # v2: covers are stable URLs written in stage 1 (no cover slots left for stage 2).
    # The dynamic blocks carry our own texts ("3 lessons", "View course"): one rendering
    # per language.
    language = get_language() or "en"
    return f"sites:page:v2:{school_id}:{page_id}:{revision}:{language}:{site_version(school_id)}"


def nav_key(school_id: int) -> str:
    return f"sites:nav:{school_id}:{site_version(school_id)}"


def theme_key(school_id: int) -> str:
    return f"sites:theme:{school_id}:{site_version(school_id)}"
