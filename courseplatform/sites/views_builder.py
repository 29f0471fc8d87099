"""Pages and the GrapesJS builder under /manage/site/ (owners and instructors).

* ``pages/``: the page list (status, menu, preview/live links, revisions), a "new
  page" form with the starter templates, and the plan's page count;
* ``pages/<id>/``: settings (title, address, menu), revision history with restore,
  starter templates (applied to the draft), unpublish and delete;
* ``pages/<id>/builder/``: the editor (``static/dist/builder.js``);
* ``pages/<id>/draft/``: the builder's storage — GET the draft, POST
  ``{project, html, css}`` to autosave it (413 with a JSON message when the page is
  larger than the plan allows; nothing is stored then);
* ``pages/<id>/publish/``: snapshot the draft as a revision and make it live;
* ``assets/``: the builder's asset manager — GET the school's site images, POST an
  image upload (validated by content, stored under ``schools/<id>/site/``, served by
  ``/site-media/<name>``).

Every page/revision id goes through a school-scoped selector: another school's id
answers 404 exactly like a missing one, and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.ops import files
from courseplatform.sanitize.placeholders import DYNAMIC_BLOCKS
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

from . import selectors, services
from .models import Page
from .services import STARTERS, PageError, PageTooLarge
from .views import SITE_MEDIA_FOLDER

MAX_ASSETS_LISTED = 200
MAX_FILES_PER_UPLOAD = 5


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _page(request: HttpRequest, page_id: int) -> Page:
    return selectors.get_page(school=_school(request), page_id=page_id)


def _live_url(page: Page) -> str:
    return "/" if page.is_home else reverse("sites:page", args=[page.slug])


def _preview_url(page: Page) -> str:
    return f"{_live_url(page)}?preview=draft"


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _list_url(anchor: str = "") -> str:
    return reverse("sites_manage:pages") + (f"#{anchor}" if anchor else "")


def _detail_url(page: Page, anchor: str = "") -> str:
    return reverse("sites_manage:page", args=[page.pk]) + (f"#{anchor}" if anchor else "")


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/manage/site/") and "//" not in target else default


# --- page list and settings ----------------------------------------------------------------


@manager_required
def pages_list(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    pages = list(selectors.pages_for_manager(school=school))
    plan = school.plan
    rows = [
        {
            "page": page,
            "live_url": _live_url(page),
            "preview_url": _preview_url(page),
            "unpublished_changes": page.status == Page.Status.PUBLISHED
            and page.draft_updated_at is not None
            and page.published_at is not None
            and page.draft_updated_at > page.published_at,
        }
        for page in pages
    ]
    nav_pages = [p for p in pages if not p.is_home]
    nav_pages.sort(key=lambda p: (p.nav_order, p.title, p.pk))
    return render(
        request,
        "sites/manage/pages.html",
        {
            "nav_active": "site",
            "rows": rows,
            "nav_order": [p.pk for p in nav_pages],
            "starters": STARTERS.values(),
            "plan": plan,
            "used": len(pages),
            "limit": plan.max_pages,
            "at_limit": plan.max_pages is not None and len(pages) >= plan.max_pages,
            "home": next((p for p in pages if p.is_home), None),
            "title_max": services.TITLE_MAX,
        },
    )


@manager_required
@require_POST
def page_create(request: HttpRequest) -> HttpResponse:
    try:
        page = services.create_page(
            school=_school(request),
            actor=request.user,
            title=request.POST.get("title", ""),
            starter=request.POST.get("starter", "blank"),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(_list_url("new-page"))
    except PageError as exc:
        messages.error(request, str(exc))
        return redirect(_list_url("new-page"))
    messages.success(
        request,
        _("“%(title)s” created as a draft. Design it, then publish.") % {"title": page.title},
    )
    return redirect("sites_manage:builder", page.pk)


@manager_required
@require_http_methods(["GET", "POST"])
def page_detail(request: HttpRequest, page_id: int) -> HttpResponse:
    school = _school(request)
    page = _page(request, page_id)
    error = ""
    if request.method == "POST":
        try:
            services.update_page(
                school=school,
                actor=request.user,
                page=page,
                title=request.POST.get("title", ""),
                slug=request.POST.get("slug", ""),
                show_in_nav=request.POST.get("show_in_nav") == "on",
            )
        except ValidationError as exc:
            error = _errors(exc)
            page.refresh_from_db()
        else:
            messages.success(request, _("Page settings saved."))
            return redirect(_detail_url(page))
    return render(
        request,
        "sites/manage/pages_detail.html",
        {
            "nav_active": "site",
            "page": page,
            "error": error,
            "form_title": request.POST.get("title", page.title) if error else page.title,
            "form_slug": request.POST.get("slug", page.slug) if error else page.slug,
            "revisions": selectors.revisions(school=school, page=page),
            "starters": STARTERS.values(),
            "live_url": _live_url(page),
            "preview_url": _preview_url(page),
        },
    )


def _post_action(
    request: HttpRequest, page_id: int, action: Any, done: str, **params: Any
) -> HttpResponse:
    """Run ``action(page)``; on success flash ``done`` (a translated message with
    ``%(title)s`` and any ``params`` as placeholders)."""
    page = _page(request, page_id)
    try:
        action(page)
    except PageError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        if done:
            messages.success(request, done % {"title": page.title, **params})
    return redirect(_back(request, _list_url()))


@manager_required
@require_POST
def page_nav(request: HttpRequest, page_id: int) -> HttpResponse:
    show = request.POST.get("show") == "1"
    return _post_action(
        request,
        page_id,
        lambda page: services.set_show_in_nav(
            school=_school(request),
            actor=request.user,
            page=page,
            show=show,
        ),
        _("“%(title)s” is now shown in the site menu.")
        if show
        else _("“%(title)s” is now hidden from the site menu."),
    )


@manager_required
@require_POST
def page_move(request: HttpRequest, page_id: int) -> HttpResponse:
    direction = -1 if request.POST.get("direction") == "up" else 1
    return _post_action(
        request,
        page_id,
        lambda page: services.move_page(
            school=_school(request),
            actor=request.user,
            page=page,
            direction=direction,
        ),
        "",
    )


@manager_required
@require_POST
def page_set_home(request: HttpRequest, page_id: int) -> HttpResponse:
    return _post_action(
        request,
        page_id,
        lambda page: services.set_home_page(
            school=_school(request),
            actor=request.user,
            page=page,
        ),
        _("“%(title)s” is now your home page."),
    )


@manager_required
@require_POST
def page_unpublish(request: HttpRequest, page_id: int) -> HttpResponse:
    return _post_action(
        request,
        page_id,
        lambda page: services.unpublish_page(
            school=_school(request),
            actor=request.user,
            page=page,
        ),
        _("“%(title)s” is unpublished: visitors no longer see it. Its draft is kept."),
    )


@manager_required
@require_POST
def page_starter(request: HttpRequest, page_id: int) -> HttpResponse:
    starter = request.POST.get("starter", "")
    name = STARTERS[starter].name if starter in STARTERS else starter
    return _post_action(
        request,
        page_id,
        lambda page: services.apply_starter(
            school=_school(request),
            actor=request.user,
            page=page,
            starter=starter,
        ),
        _(
            "The “%(starter)s” starter is now the draft of “%(title)s”. Open the builder to "
            "adjust it, then publish; visitors see the old version until you do."
        ),
        starter=name,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def page_delete(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _page(request, page_id)
    if request.method == "POST":
        try:
            services.delete_page(school=_school(request), actor=request.user, page=page)
        except PageError as exc:
            messages.error(request, str(exc))
            return redirect(_detail_url(page))
        messages.success(request, _("“%(title)s” deleted.") % {"title": page.title})
        return redirect("sites_manage:pages")
    return render(request, "sites/manage/pages_delete.html", {"nav_active": "site", "page": page})


@manager_required
@require_POST
def revision_restore(request: HttpRequest, page_id: int, revision_id: int) -> HttpResponse:
    school = _school(request)
    page = _page(request, page_id)
    revision = selectors.get_revision(school=school, revision_id=revision_id, page=page)
    try:
        services.restore_revision(school=school, actor=request.user, page=page, revision=revision)
    except PageError as exc:
        messages.error(request, str(exc))
        return redirect(_detail_url(page, "revisions"))
    messages.success(
        request,
        _(
            "Revision %(number)s is now the draft of “%(title)s”. Check it in the "
            "builder or the draft preview, then publish to make it live."
        )
        % {"number": revision.number, "title": page.title},
    )
    return redirect(_detail_url(page, "revisions"))


# --- the builder ---------------------------------------------------------------------------


def _site_images(school: School) -> list[str]:
    prefix = school_storage_key(school.pk, SITE_MEDIA_FOLDER)
    try:
        _dirs, names = default_storage.listdir(prefix)
    except (FileNotFoundError, OSError):
        return []
    names = [n for n in names if "." in n][:MAX_ASSETS_LISTED]
    return [reverse("sites:media", args=[n]) for n in sorted(names)]


def _builder_data(request: HttpRequest, page: Page) -> dict[str, Any]:
    from django.middleware.csrf import get_token
    from django.templatetags.static import static

    from courseplatform.courses.selectors import published_courses
    from courseplatform.video.models import VideoAsset

    school = _school(request)
    courses = [
        {
            "id": c.pk,
            "title": c.title,
            "subtitle": c.subtitle,
            "lessons": getattr(c, "lesson_count", 0),
            "published": True,
        }
        for c in published_courses(school=school)[:60]
    ]
    drafts = Course.objects.filter(school=school, status=Course.Status.DRAFT).order_by("title")
    courses += [
        {"id": c.pk, "title": c.title, "subtitle": c.subtitle, "lessons": 0, "published": False}
        for c in drafts[:60]
    ]
    people = User.objects.filter(
        school=school, is_active=True, role__in=[User.Role.OWNER, User.Role.INSTRUCTOR]
    ).order_by("full_name")[:100]
    videos = VideoAsset.objects.filter(school=school, status=VideoAsset.Status.READY).order_by(
        "-created_at"
    )[:100]
    return {
        "page": {"id": page.pk, "title": page.title, "slug": page.slug, "isHome": page.is_home},
        "urls": {
            "draft": reverse("sites_manage:draft", args=[page.pk]),
            "publish": reverse("sites_manage:publish", args=[page.pk]),
            "assets": reverse("sites_manage:assets"),
            "preview": _preview_url(page),
            "live": _live_url(page),
        },
        "csrfToken": get_token(request),
        "canvasStyles": [static("dist/app.css"), static("dist/site-blocks.css")],
        "limit": school.plan.max_page_bytes,
        "courses": courses,
        "instructors": [
            {"id": p.pk, "name": p.full_name or p.email, "role": p.role} for p in people
        ],
        "videos": [{"id": v.pk, "title": v.title or v.original_filename} for v in videos],
        "assets": _site_images(school),
        "dynamicBlocks": sorted(DYNAMIC_BLOCKS),
        "schoolName": school.name,
        # GrapesJS's own i18n: its panels follow the page's language (builder.js).
        "language": get_language() or "en",
    }


@manager_required
def builder(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _page(request, page_id)
    response = render(
        request,
        "sites/manage/builder.html",
        {
            "page": page,
            "builder_data": _builder_data(request, page),
            "live_url": _live_url(page),
            "preview_url": _preview_url(page),
        },
    )
    add_never_cache_headers(response)
    return response


def _json_error(message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message, **extra}, status=status)


@manager_required
@require_http_methods(["GET", "POST"])
def draft(request: HttpRequest, page_id: int) -> HttpResponse:
    school = _school(request)
    page = _page(request, page_id)
    if request.method == "GET":
        response: HttpResponse = JsonResponse(
            {
                "ok": True,
                "project": page.draft_project or None,
                "html": page.draft_html,
                "css": page.draft_css,
                "updatedAt": page.draft_updated_at.isoformat() if page.draft_updated_at else None,
            }
        )
        add_never_cache_headers(response)
        return response
    limit = school.plan.max_page_bytes
    try:
        raw = request.body
    except RequestDataTooBig:
        return _json_error(
            _(
                "This page is too large to save (the request exceeds the server's limit). "
                "Nothing was saved."
            ),
            413,
            limit=limit,
        )
    try:
        payload = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _json_error(_("The builder sent data we could not read. Nothing was saved."), 400)
    if not isinstance(payload, dict):
        return _json_error("Expected a JSON object with project, html and css.", 400)
    try:
        saved = services.save_draft(
            school=school,
            actor=request.user,
            page=page,
            html=payload.get("html", ""),
            css=payload.get("css", ""),
            project=payload.get("project") or {},
        )
    except PageTooLarge as exc:
        return _json_error(str(exc), 413, size=exc.size, limit=exc.limit)
    except PageError as exc:
        return _json_error(str(exc), 400)
    except ValidationError as exc:
        return _json_error(_errors(exc), 400)
    return JsonResponse(
        {
            "ok": True,
            "savedAt": saved.page.draft_updated_at.isoformat()
            if saved.page.draft_updated_at
            else None,
            "size": saved.size,
            "limit": saved.limit,
        }
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )


@manager_required
@require_POST
def publish(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _page(request, page_id)
    try:
        revision = services.publish_page(school=_school(request), actor=request.user, page=page)
    except PageError as exc:
        if _wants_json(request):
            return _json_error(str(exc), 400)
        messages.error(request, str(exc))
        return redirect(_back(request, _list_url()))
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "revision": revision.number,
                "url": _live_url(page),
                "publishedAt": revision.created_at.isoformat(),
            }
        )
    messages.success(
        request,
        _("“%(title)s” published (revision %(number)s).")
        % {"title": page.title, "number": revision.number},
    )
    return redirect(_back(request, _list_url()))


@manager_required
@require_http_methods(["GET", "POST"])
def assets(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    if request.method == "GET":
        return JsonResponse(
            {"data": [{"type": "image", "src": src} for src in _site_images(school)]}
        )
    uploads = [f for key in request.FILES for f in request.FILES.getlist(key)]
    if not uploads:
        return _json_error(_("Choose an image to upload."), 400)
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        return _json_error(
            ngettext(
                "Upload at most %(count)s image at a time.",
                "Upload at most %(count)s images at a time.",
                MAX_FILES_PER_UPLOAD,
            )
            % {"count": MAX_FILES_PER_UPLOAD},
            400,
        )
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, files.check_image(upload, max_bytes=settings.MAX_IMAGE_BYTES)))
        except files.UploadRejected as exc:
            return _json_error(f"{upload.name}: {exc}", 400)
    stored = []
    for upload, result in checked:
        key = files.store_school_file(
            school=school, folder=SITE_MEDIA_FOLDER, upload=upload, extension=result.extension
        )
        stored.append(
            {"type": "image", "src": reverse("sites:media", args=[key.rsplit("/", 1)[1]])}
        )
    return JsonResponse({"data": stored})
