"""Theme editor (/manage/site/theme/), site landing (/manage/site/) and public branding files.

Who may do what: owners and instructors open the editor (and play with its preview);
only the owner saves, like the school's name in Settings: the brand is the owner's.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops.files import UploadRejected
from courseplatform.ops.net import client_ip

from . import theming
from .forms_theme import COLOUR_FIELDS, ThemeForm
from .models import Theme
from .selectors import get_theme

# Versioned URLs (?v=<hash of the storage key>) change with every upload: cache forever.
# The bare URL (emails, bookmarks) is re-checked after 5 minutes.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"


@manager_required
def site_home(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    theme = get_theme(school)
    return render(
        request,
        "sites/manage/site_home.html",
        {
            "nav_active": "site",
            "site_theme": theme,
            "contrast_warnings": theming.contrast_warnings(theme) if theme else [],
            "logo_url": theming.branding_path(theme, "logo"),
        },
    )


@manager_required
def theme_edit(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    is_owner = permissions.is_school_owner(request.user, school)
    theme = get_theme(school) or Theme(school=school)
    form = ThemeForm(request.POST or None, request.FILES or None, instance=theme)
    if request.method == "POST":
        if not is_owner:
            messages.error(request, theming.THEME_OWNER_ONLY)
            return redirect("sites_manage:theme")
        if form.is_valid():
            data = form.cleaned_data
            ip = client_ip(request)
            try:
                with transaction.atomic():
                    saved = theming.update_theme(
                        school=school,
                        actor=request.user,
                        ip=ip,
                        **{
                            name: data[name]
                            for name in (
                                *COLOUR_FIELDS,
                                "heading_font",
                                "body_font",
                                "button_shape",
                            )
                        },
                    )
                    if data.get("logo"):
                        saved = theming.set_logo(
                            school=school, actor=request.user, upload=data["logo"], ip=ip
                        )
                    elif data.get("remove_logo"):
                        saved = theming.clear_branding_image(
                            school=school, actor=request.user, kind="logo", ip=ip
                        )
                    if data.get("favicon"):
                        saved = theming.set_favicon(
                            school=school, actor=request.user, upload=data["favicon"], ip=ip
                        )
                    elif data.get("remove_favicon"):
                        saved = theming.clear_branding_image(
                            school=school, actor=request.user, kind="favicon", ip=ip
                        )
            except UploadRejected as exc:  # already checked by the form; a race at most
                form.add_error(None, str(exc))
            except ValidationError as exc:  # checked by the form too; a race at most
                form.add_error(None, exc)
            except PermissionDenied:
                messages.error(request, theming.THEME_OWNER_ONLY)
                return redirect("sites_manage:theme")
            else:
                warnings = theming.contrast_warnings(saved)
                if warnings:
                    messages.warning(
                        request,
                        _(
                            "Theme saved. Some colours are hard to read: see the contrast "
                            "notes below."
                        ),
                    )
                else:
                    messages.success(
                        request, _("Theme saved. Every page of your school uses it now.")
                    )
                return redirect("sites_manage:theme")
    preview_theme = theme if not form.is_bound else form.instance
    return render(
        request,
        "sites/manage/theme.html",
        {
            "form": form,
            "is_owner": is_owner,
            "nav_active": "site",
            "fonts": theming.FONTS,
            "font_stylesheets": theming.all_font_stylesheets(),
            "preview_css": theming.theme_css_variables(preview_theme),
            "contrast_warnings": theming.contrast_warnings(preview_theme),
            "logo_url": theming.branding_path(theme if theme.pk else None, "logo"),
            "favicon_url": theming.branding_path(theme if theme.pk else None, "favicon"),
            "preview_config": {
                "fonts": {key: font.stack for key, font in theming.FONTS.items()},
                "radii": {shape: radii[0] for shape, radii in theming.BUTTON_RADII.items()},
                "radiiSmall": {shape: radii[1] for shape, radii in theming.BUTTON_RADII.items()},
                "onLight": theming.ON_LIGHT,
                "onDark": theming.ON_DARK,
                "aaText": theming.AA_TEXT,
                "aaLarge": theming.AA_LARGE,
            },
        },
    )


@require_safe
def branding_asset(request: HttpRequest, kind: str) -> HttpResponseBase:
    """The school's logo or favicon, public (like the pages that show it) and cached.

    Served from storage through the app rather than by signed URLs: those expire, and
    a cached page or an email opened next week would show a broken image. Only the
    request's own school's file can be reached: the key comes from its theme and must
    sit under its storage prefix.
    """
    school = getattr(request, "school", None)
    if school is None:
        raise Http404("No such file.")
    key = theming.branding_file(school, get_theme(school), kind)
    if not key:
        raise Http404("No such file.")
    version = theming.branding_version(key)
    etag = f'"{version}"'
    cache_control = IMMUTABLE_CACHE if request.GET.get("v") == version else SHORT_CACHE
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        not_modified["Cache-Control"] = cache_control
        return not_modified
    try:
        handle = default_storage.open(key, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{kind}.png"'
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
