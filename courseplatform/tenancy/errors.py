"""Error pages in the visitor's language (``settings.CSRF_FAILURE_VIEW``, the URLconfs'
``handler404``/``handler403``/``handler500``).

Django's own views render the pages; these only make sure a language is chosen when the
error happened before ``LanguageMiddleware`` did (``tenancy.languages.status_page_language``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views import csrf, defaults

from .languages import status_page_language


def _language(request: HttpRequest) -> str:
    chosen = getattr(request, "LANGUAGE_CODE", None)
    return chosen or status_page_language(request, getattr(request, "school", None))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    with translation.override(_language(request)):
        return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    with translation.override(_language(request)):
        return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    with translation.override(_language(request)):
        return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    with translation.override(_language(request)):
        return csrf.csrf_failure(request, reason)
