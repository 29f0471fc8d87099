"""The public school site: the home page ``/``, extra pages ``/p/<slug>/`` and the
images pages use (``/site-media/<name>``).

Published pages render from the cache, keyed by school, page, published revision
and the school's site version (bumped on publish and whenever data shown by a
dynamic block changes), then get their per-request slots filled (see ``blocks``).
``?preview=draft`` renders the draft through the very same sanitising path, for
the school's owner and instructors only; everyone else gets the live page.
"""

from __future__ import annotations

import re

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_safe

from courseplatform.accounts import permissions
from courseplatform.ops import files
from courseplatform.ops.edgecache import public_page
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

from . import blocks, cache_keys, selectors
from .models import Page

SITE_MEDIA_FOLDER = "site"
_MEDIA_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp|gif)")
_IMAGE_TYPES = {extension: content_type for content_type, extension in files.IMAGE_FORMATS.values()}


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def can_preview(request: HttpRequest) -> bool:
    return permissions.can_manage_school(request.user, _school(request))


def _wants_draft(request: HttpRequest) -> bool:
    return request.GET.get("preview") == "draft" and can_preview(request)


def live_body(school: School, page: Page) -> blocks.Body:
    revision = (
        str(page.published_revision_id)
        if page.published_revision_id
        else f"t{int(page.published_at.timestamp()) if page.published_at else 0}"
    )
    key = cache_keys.page_key(school.pk, page.pk, revision)
    body = cache.get(key)
    if not isinstance(body, blocks.Body):
        body = blocks.render_body(school=school, html=page.published_html, css=page.published_css)
        cache.set(key, body, cache_keys.RENDER_TTL)
    return body


def _render(request: HttpRequest, page: Page | None, *, draft: bool) -> HttpResponse:
    school = _school(request)
    context: dict[str, object] = {"page": page, "preview": draft}
    if page is not None:
        if draft:
            body = blocks.render_body(school=school, html=page.draft_html, css=page.draft_css)
        else:
            body = live_body(school, page)
        context["body"] = blocks.finish(body, request=request, school=school)
        # Sanitised CSS holds no "<", so it cannot close the <style> element.
        context["page_css"] = mark_safe(body.css)  # noqa: S308
    response = render(
        request, "sites/home.html" if page is None or page.is_home else "sites/page.html", context
    )
    if draft:
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
    return response


@public_page
@require_safe
def school_home(request: HttpRequest) -> HttpResponse:
    page = selectors.get_home_page(_school(request))
    if page is not None and _wants_draft(request):
        return _render(request, page, draft=True)
    if page is not None and page.status != Page.Status.PUBLISHED:
        page = None
    return _render(request, page, draft=False)


@public_page
@require_safe
def page_view(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.get_page_by_slug(_school(request), slug)
    if page is None:
        raise Http404("No such page.")
    draft = _wants_draft(request)
    if page.is_home:
        return HttpResponseRedirect("/?preview=draft" if draft else "/")
    if not draft and page.status != Page.Status.PUBLISHED:
        raise Http404("No such page.")
    return _render(request, page, draft=draft)


@require_GET
def site_media(request: HttpRequest, name: str) -> FileResponse:
    """An image uploaded through the builder, from this school's storage prefix only."""
    if not _MEDIA_NAME.fullmatch(name):
        raise Http404("No such file.")
    key = school_storage_key(_school(request).pk, SITE_MEDIA_FOLDER, name)
    try:
        if not default_storage.exists(key):
            raise Http404("No such file.")
        handle = default_storage.open(key, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=_IMAGE_TYPES[name.rsplit(".", 1)[1]])
    # The name is random and never reused: cache it for a year, anywhere.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
