"""The footer's language switcher (``partials/language_switcher.html``)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import JavaScriptCatalog

from courseplatform.tenancy.languages import is_language

from .services import set_user_language

# Browsers and caches keep a catalog this long; a deployment with new strings is seen
# within the hour.
JS_CATALOG_SECONDS = 3600


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)


@csrf_protect
def _save_for_account(request: HttpRequest, language: str) -> HttpResponse:
    set_user_language(
        school=getattr(request, "school", None),
        user=request.user,  # type: ignore[arg-type]
        language=language,
    )
    return _remember(request, language)


def _remember(request: HttpRequest, language: str) -> HttpResponseRedirect:
    response = _back(request)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
    return response


# A visitor's choice only sets a cookie on their own browser, so a cached public page
# (which carries no CSRF token) can offer the switcher; a signed-in person's choice is
# saved on the account, and that write is CSRF-protected as every other one.
@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language and not is_language(language):
        return HttpResponse(
            translation.gettext("Unknown language."), status=400, content_type="text/plain"
        )
    if request.user.is_authenticated:
        return _save_for_account(request, language)
    return _remember(request, language)


@lru_cache(maxsize=16)
def _catalog_body(language: str) -> bytes:
    """The JavaScript catalog of one language, built once per process (the compiled
    catalogs only change with a deployment, which restarts the process)."""
    with translation.override(language):
        request = HttpRequest()
        request.method = "GET"
        response = JavaScriptCatalog.as_view(domain="djangojs", packages=[])(request)
    assert isinstance(response, HttpResponse)
    return bytes(response.content)


@require_GET
def javascript_catalog(request: HttpRequest, language: str) -> HttpResponse:
    """``gettext()`` and friends for the scripts in frontend/src/js, in ``language``
    (named in the URL, so one URL is one language and any cache may keep it)."""
    if not is_language(language):
        raise Http404("Unknown language.")
    response = HttpResponse(_catalog_body(language), content_type="text/javascript")
    response["Cache-Control"] = f"public, max-age={JS_CATALOG_SECONDS}"
    return response
