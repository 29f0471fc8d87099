"""Reads of a school's site: theme, pages, revisions, navigation.

Fetch-by-id selectors filter by school and raise ``Http404`` alike for a missing
row and for another school's row, so ids reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.http import Http404

from courseplatform.tenancy.models import School
from courseplatform.tenancy.usage import figure_query

from . import cache_keys
from .models import Page, PageRevision, Theme

MAX_DB_ID = 2**63 - 1


def get_theme(school: School) -> Theme | None:
    return Theme.objects.filter(school=school).first()


_NO_THEME = "none"


def get_cached_theme(school: School) -> Theme | None:
    """The theme every school page shows (cached per content generation: theme saves
    bump it, ``signals.py``)."""
    key = cache_keys.theme_key(school.pk)
    cached = cache.get(key)
    if isinstance(cached, Theme):
        return cached
    if cached == _NO_THEME:
        return None
    theme = get_theme(school)
    cache.set(key, theme if theme is not None else _NO_THEME, cache_keys.RENDER_TTL)
    return theme


def get_published_home_page(school: School) -> Page | None:
    return Page.objects.filter(school=school, is_home=True, status=Page.Status.PUBLISHED).first()


def get_home_page(school: School) -> Page | None:
    return Page.objects.filter(school=school, is_home=True).first()


def get_page_by_slug(school: School, slug: str) -> Page | None:
    return Page.objects.filter(school=school, slug=slug).first()


def get_page(*, school: School, page_id: int) -> Page:
    page = (
        Page.objects.filter(school=school, pk=page_id).first() if 0 < page_id <= MAX_DB_ID else None
    )
    if page is None:
        raise Http404("No such page.")
    return page


def get_revision(*, school: School, revision_id: int, page: Page | None = None) -> PageRevision:
    qs = PageRevision.objects.filter(school=school, pk=revision_id).select_related("page")
    if page is not None:
        qs = qs.filter(page=page)
    revision = qs.first() if 0 < revision_id <= MAX_DB_ID else None
    if revision is None:
        raise Http404("No such revision.")
    return revision


def pages_for_manager(*, school: School) -> QuerySet[Page]:
    return (
        Page.objects.filter(school=school)
        .annotate(revision_count=Count("revisions"))
        .select_related("published_revision")
        .order_by("-is_home", "nav_order", "title", "id")
    )


def revisions(*, school: School, page: Page) -> QuerySet[PageRevision]:
    return (
        PageRevision.objects.filter(school=school, page=page)
        .select_related("created_by")
        .order_by("-number")
    )


def count_pages(*, school: School) -> int:
    return Page.objects.filter(school=school).count()


def count_pages_query(school: School) -> QuerySet[Page]:
    """``count_pages`` as a usage query (tenancy.usage.figure_query)."""
    return figure_query(Page.objects.filter(school=school), Count("pk"))


@dataclass(frozen=True)
class NavItem:
    title: str
    url: str


def nav_items(school: School) -> list[NavItem]:
    """Published extra pages shown in the site menu, in order (cached per site version)."""
    key = cache_keys.nav_key(school.pk)
    cached = cache.get(key)
    if cached is not None:
        return [NavItem(title, url) for title, url in cached]
    rows = list(
        Page.objects.filter(
            school=school, status=Page.Status.PUBLISHED, show_in_nav=True, is_home=False
        )
        .order_by("nav_order", "title", "id")
        .values_list("title", "slug")[:12]
    )
    items = [NavItem(title, f"/p/{slug}/") for title, slug in rows]
    cache.set(key, [(i.title, i.url) for i in items], cache_keys.RENDER_TTL)
    return items
