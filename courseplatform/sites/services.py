"""Writes on a school's site: the default site, pages, drafts, publishing, revisions.

Every function is keyword-only, takes the school first and the acting user next,
checks that each object it is handed belongs to that school (``Http404`` otherwise,
exactly like a missing id) and raises ``PageError`` (a message for the person),
``PageTooLarge``, ``ValidationError`` or ``PermissionDenied``. HTML, CSS and the
builder's project JSON are sanitised here before anything is stored (and again when
pages are rendered). Anything that changes what visitors see bumps the school's site
version, which retires every cached rendering of its pages and menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from courseplatform.accounts import permissions
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sanitize.css import sanitize_css
from courseplatform.sanitize.html import sanitize_page_html
from courseplatform.sanitize.project import json_size, sanitize_project
from courseplatform.tenancy.models import School
from courseplatform.tenancy.slugs import unique_slug

from .cache_keys import bump_site_version
from .models import Page, PageRevision, Theme
from .selectors import count_pages

TITLE_MAX = 200
SLUG_MAX = 80
SITE_MANAGERS_ONLY = gettext_lazy("Only the school's owner and instructors can change its site.")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")


@dataclass(frozen=True)
class Starter:
    key: str
    name: str | Promise  # lazily translated: shown in the viewer's language
    description: str | Promise


STARTERS: dict[str, Starter] = {
    s.key: s
    for s in (
        Starter(
            "classic",
            pgettext_lazy("starter template", "Classic"),
            gettext_lazy(
                "A welcoming hero, what students get, your course "
                "catalogue, a code redemption box and answers to common questions."
            ),
        ),
        Starter(
            "bold",
            pgettext_lazy("starter template", "Bold"),
            gettext_lazy(
                "A full-width hero in your brand colour with big type, your "
                "courses, testimonials and a strong call to action."
            ),
        ),
        Starter(
            "minimal",
            pgettext_lazy("starter template", "Minimal"),
            gettext_lazy(
                "Quiet and text-first: a short introduction, your "
                "courses and a simple code box. Lots of white space."
            ),
        ),
    )
}
BLANK = "blank"


class PageError(Exception):
    """A request that cannot be honoured; the message is safe to show."""


class PageTooLarge(PageError):
    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            _(
                "This page is %(size)s but your plan allows %(limit)s per page "
                "(HTML, styles and builder data together). Remove some content or split it "
                "into two pages. Nothing was saved."
            )
            % {"size": _kb(size), "limit": _kb(limit)}
        )


@dataclass(frozen=True)
class DraftSaved:
    page: Page
    size: int
    limit: int | None


def _kb(size: int) -> str:
    if size >= 1024:
        return _("%(size)s KB") % {"size": formats.number_format(round(size / 1024))}
    return ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": formats.number_format(size)}


def _changed(school: School) -> None:
    """Retire cached renderings now, and again once the transaction commits (so a
    request that read the old rows meanwhile cannot keep them cached)."""
    bump_site_version(school.pk)
    transaction.on_commit(lambda: bump_site_version(school.pk))


def page_bytes(html: str, css: str, project: Any) -> int:
    return len(html.encode()) + len(css.encode()) + (json_size(project) if project else 0)


def check_page_size(school: School, size: int) -> int | None:
    limit = school.plan.max_page_bytes
    if limit is not None and size > limit:
        raise PageTooLarge(size, limit)
    return limit


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the page a title.")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("Use at most %(max)s characters.") % {"max": TITLE_MAX}})
    validate_single_line(title, field="title")
    return title


def _unique_slug(school: School, base: str, *, exclude_pk: int | None = None) -> str:
    return unique_slug(
        Page.objects.filter(school=school).exclude(pk=exclude_pk or 0), base, fallback="page"
    )


def starter_html(*, school: School, starter: str, title: str = "") -> str:
    if starter != BLANK and starter not in STARTERS:
        raise ValidationError({"starter": _("Choose one of the starter templates.")})
    with translation.override(starter_language(school)):
        body = render_to_string(
            f"sites/starters/{starter}.html", {"school": school, "title": title or school.name}
        )
    return sanitize_page_html(body)


def starter_language(school: School) -> str:
    """The language a starter's texts are written in: the school's language, or for a
    school that follows each visitor's browser, the language of whoever creates it."""
    return getattr(school, "language", "") or translation.get_language() or settings.LANGUAGE_CODE


# --- the default site ----------------------------------------------------------------------


def create_default_site(*, school: School) -> tuple[Theme, Page]:
    """Every new school starts with a theme and a published home page (Classic starter)."""
    theme = Theme.objects.create(school=school)
    html = starter_html(school=school, starter="classic")
    now = timezone.now()
    page = Page.objects.create(
        school=school,
        slug="home",
        title=school.name,
        draft_html=html,
        draft_updated_at=now,
        published_html=html,
        status=Page.Status.PUBLISHED,
        is_home=True,
        published_at=now,
    )
    revision = PageRevision.objects.create(
        school=school, page=page, number=1, kind=PageRevision.Kind.PUBLISH, html=html
    )
    page.published_revision = revision
    page.save(update_fields=["published_revision"])
    return theme, page


# --- pages ---------------------------------------------------------------------------------


def create_page(
    *, school: School, actor: Any, title: str, starter: str = BLANK, slug: str = ""
) -> Page:
    """A new draft page, refused once the plan's page count is reached."""
    permissions.require_school_manager(school, actor, message=str(SITE_MANAGERS_ONLY))
    title = _clean_title(title)
    html = starter_html(school=school, starter=starter, title=title)
    check_page_size(school, page_bytes(html, "", None))
    with transaction.atomic():
        # Serialise page creation per school so two requests cannot both pass the limit.
        # Only the school row is locked: the runtime role may read plans, not lock them.
        locked = (
            School.objects.select_for_update(of=("self",)).select_related("plan").get(pk=school.pk)
        )
        limit = locked.plan.max_pages
        if limit is not None and count_pages(school=school) >= limit:
            raise PageError(
                ngettext(
                    "Your %(plan)s plan includes up to %(limit)s page. Delete a page you "
                    "no longer need or upgrade to a bigger plan to add more.",
                    "Your %(plan)s plan includes up to %(limit)s pages. Delete a page you "
                    "no longer need or upgrade to a bigger plan to add more.",
                    limit,
                )
                % {"plan": locked.plan.name, "limit": limit}
            )
        if slug:
            slug = _check_slug(school, slug)
        next_order = (
            Page.objects.filter(school=school).aggregate(m=Max("nav_order"))["m"] or 0
        ) + 1
        page = Page.objects.create(
            school=school,
            title=title,
            slug=slug or _unique_slug(school, title),
            draft_html=html,
            draft_updated_at=timezone.now(),
            nav_order=next_order,
        )
        record_audit(
            school=school,
            actor=actor,
            action="site.page_created",
            target=page,
            data={"slug": page.slug, "starter": starter},
        )
    return page


def _check_slug(school: School, slug: str, *, exclude_pk: int | None = None) -> str:
    slug = (slug or "").strip().lower()
    if not _SLUG.fullmatch(slug):
        raise ValidationError(
            {"slug": _("Use lowercase letters, digits and hyphens (for example about-us).")}
        )
    clash = Page.objects.filter(school=school, slug=slug).exclude(pk=exclude_pk or 0)
    if clash.exists():
        raise ValidationError({"slug": _("Another page already uses this address.")})
    return slug


def update_page(
    *, school: School, actor: Any, page: Page, title: str, slug: str, show_in_nav: bool
) -> Page:
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    title = _clean_title(title)
    slug = page.slug if page.is_home and not slug else _check_slug(school, slug, exclude_pk=page.pk)
    with transaction.atomic():
        before = {"title": page.title, "slug": page.slug, "show_in_nav": page.show_in_nav}
        page.title, page.slug, page.show_in_nav = title, slug, bool(show_in_nav)
        page.save(update_fields=["title", "slug", "show_in_nav", "updated_at"])
        record_audit(
            school=school,
            actor=actor,
            action="site.page_updated",
            target=page,
            data={"from": before},
        )
        _changed(school)
    return page


def set_show_in_nav(*, school: School, actor: Any, page: Page, show: bool) -> Page:
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    page.show_in_nav = bool(show)
    page.save(update_fields=["show_in_nav", "updated_at"])
    _changed(school)
    return page


def move_page(*, school: School, actor: Any, page: Page, direction: int) -> None:
    """Move a page one place up (-1) or down (+1) in the site menu."""
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    with transaction.atomic():
        pages = list(
            Page.objects.select_for_update()
            .filter(school=school, is_home=False)
            .order_by("nav_order", "title", "id")
        )
        index = next((i for i, p in enumerate(pages) if p.pk == page.pk), None)
        if index is None:
            return
        target = index + (1 if direction > 0 else -1)
        if 0 <= target < len(pages):
            pages[index], pages[target] = pages[target], pages[index]
        for position, item in enumerate(pages, start=1):
            if item.nav_order != position:
                Page.objects.filter(pk=item.pk).update(nav_order=position)
        _changed(school)


def delete_page(*, school: School, actor: Any, page: Page) -> None:
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    if page.is_home:
        raise PageError(
            _("The home page cannot be deleted. Make another page the home page first.")
        )
    with transaction.atomic():
        record_audit(
            school=school,
            actor=actor,
            action="site.page_deleted",
            target=page,
            data={"slug": page.slug, "title": page.title},
        )
        page.delete()
        _changed(school)


def set_home_page(*, school: School, actor: Any, page: Page) -> Page:
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    if page.status != Page.Status.PUBLISHED:
        raise PageError(_("Publish this page before making it the home page."))
    with transaction.atomic():
        previous = Page.objects.filter(school=school, is_home=True).exclude(pk=page.pk)
        previous_slugs = list(previous.values_list("slug", flat=True))
        previous.update(is_home=False)
        page.is_home = True
        page.save(update_fields=["is_home", "updated_at"])
        record_audit(
            school=school,
            actor=actor,
            action="site.home_changed",
            target=page,
            data={"from": previous_slugs, "to": page.slug},
        )
        _changed(school)
    return page


# --- drafts, publishing, revisions ---------------------------------------------------------


def save_draft(
    *, school: School, actor: Any, page: Page, html: str, css: str, project: Any
) -> DraftSaved:
    """Autosave from the builder: size-checked first (nothing stored when too big),
    then sanitised and stored as the page's draft."""
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    if not isinstance(html, str) or not isinstance(css, str):
        raise ValidationError("html and css must be strings.")
    if project is None:
        project = {}
    if not isinstance(project, dict):
        raise ValidationError("project must be an object.")
    size = page_bytes(html, css, project)
    limit = check_page_size(school, size)
    clean_html = sanitize_page_html(html)
    clean_css = sanitize_css(css)
    try:
        clean_project = sanitize_project(project)
    except ValueError as exc:
        raise PageError(str(exc)) from exc
    now = timezone.now()
    with transaction.atomic():
        updated = Page.objects.filter(school=school, pk=page.pk).update(
            draft_html=clean_html,
            draft_css=clean_css,
            draft_project=clean_project,
            draft_updated_at=now,
            updated_at=now,
        )
        if not updated:
            raise Http404("Not found.")
    page.draft_html, page.draft_css, page.draft_project = clean_html, clean_css, clean_project
    page.draft_updated_at = now
    return DraftSaved(page=page, size=size, limit=limit)


def _prune_revisions(school: School, page: Page) -> None:
    """Keep the newest ``PAGE_REVISIONS_KEPT`` revisions of ``page`` (the new one among
    them); numbers keep counting up, so a deleted number is never reused."""
    kept = max(1, int(settings.PAGE_REVISIONS_KEPT))
    newest = PageRevision.objects.filter(school=school, page=page).order_by("-number")
    cutoff = newest.values_list("number", flat=True)[kept - 1 : kept].first()
    if cutoff is not None:
        PageRevision.objects.filter(school=school, page=page, number__lt=cutoff).delete()


def publish_page(*, school: School, actor: Any, page: Page) -> PageRevision:
    """Snapshot the draft as a new revision and make it the live page."""
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    with transaction.atomic():
        locked = Page.objects.select_for_update().get(school=school, pk=page.pk)
        html = sanitize_page_html(locked.draft_html)
        css = sanitize_css(locked.draft_css)
        project = sanitize_project(locked.draft_project)
        if not html.strip():
            raise PageError(_("This page is empty. Add something to it before publishing."))
        number = (
            PageRevision.objects.filter(school=school, page=locked).aggregate(m=Max("number"))["m"]
            or 0
        ) + 1
        revision = PageRevision.objects.create(
            school=school,
            page=locked,
            number=number,
            kind=PageRevision.Kind.PUBLISH,
            html=html,
            css=css,
            project=project,
            created_by=actor,
        )
        _prune_revisions(school, locked)
        locked.published_html, locked.published_css = html, css
        locked.published_revision = revision
        locked.published_at = revision.created_at
        locked.status = Page.Status.PUBLISHED
        locked.save(
            update_fields=[
                "published_html",
                "published_css",
                "published_revision",
                "published_at",
                "status",
                "updated_at",
            ]
        )
        record_audit(
            school=school,
            actor=actor,
            action="site.page_published",
            target=locked,
            data={"revision": number},
        )
        _changed(school)
    page.refresh_from_db()
    return revision


def unpublish_page(*, school: School, actor: Any, page: Page) -> Page:
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    if page.is_home:
        raise PageError(
            _("The home page is always published. Make another page the home page first.")
        )
    with transaction.atomic():
        page.status = Page.Status.DRAFT
        page.save(update_fields=["status", "updated_at"])
        record_audit(school=school, actor=actor, action="site.page_unpublished", target=page)
        _changed(school)
    return page


def _replace_draft(page: Page, *, html: str, css: str, project: dict[str, Any]) -> None:
    """Store already-clean HTML, CSS and project JSON as the page's draft."""
    page.draft_html, page.draft_css, page.draft_project = html, css, project
    page.draft_updated_at = timezone.now()
    page.save(
        update_fields=["draft_html", "draft_css", "draft_project", "draft_updated_at", "updated_at"]
    )


def restore_revision(*, school: School, actor: Any, page: Page, revision: PageRevision) -> Page:
    """Copy a revision into the draft; the live page changes only when it is published."""
    permissions.require_school_manager(
        school, actor, page, revision, message=str(SITE_MANAGERS_ONLY)
    )
    if revision.page_id != page.pk:
        raise Http404("Not found.")
    check_page_size(school, page_bytes(revision.html, revision.css, revision.project))
    with transaction.atomic():
        _replace_draft(
            page,
            html=sanitize_page_html(revision.html),
            css=sanitize_css(revision.css),
            project=sanitize_project(revision.project),
        )
        record_audit(
            school=school,
            actor=actor,
            action="site.page_restored",
            target=page,
            data={"revision": revision.number},
        )
    return page


def apply_starter(*, school: School, actor: Any, page: Page, starter: str) -> Page:
    """Replace the page's draft with a starter template (the live page is untouched)."""
    permissions.require_school_manager(school, actor, page, message=str(SITE_MANAGERS_ONLY))
    html = starter_html(school=school, starter=starter, title=page.title)
    check_page_size(school, page_bytes(html, "", None))
    with transaction.atomic():
        _replace_draft(page, html=html, css="", project={})
        record_audit(
            school=school,
            actor=actor,
            action="site.starter_applied",
            target=page,
            data={"starter": starter},
        )
    return page
