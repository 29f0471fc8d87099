"""The languages a school, a student or a visitor may choose: ``settings.LANGUAGES``.

A school's language is one of them, or "" to follow each visitor's browser
(Accept-Language). Codes are Django's lower-case language codes ("pt-br").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real


class _HasLanguage(Protocol):
    """A school as far as this module needs one (models.py imports this module for its
    validator, so it cannot import models)."""

    language: str


FOLLOW_BROWSER = ""


@lru_cache(maxsize=1)
def language_codes() -> frozenset[str]:
    return frozenset(code for code, _name in settings.LANGUAGES)


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language): the switcher and the settings forms list these."""
    return [(code, name) for code, name in settings.LANGUAGES]


def is_language(value: object) -> bool:
    return isinstance(value, str) and value in language_codes()


def validate_language(value: str) -> None:
    """A supported code or "" (the browser's language)."""
    if value != FOLLOW_BROWSER and not is_language(value):
        raise ValidationError(
            _("Unknown language %(value)s."), code="language", params={"value": repr(value)[:20]}
        )


@lru_cache(maxsize=512)
def browser_language(accept_language: str) -> str:
    """The best supported language for an ``Accept-Language`` header, or ""."""
    for code, _quality in trans_real.parse_accept_lang_header(accept_language):
        if code == "*":
            break
        try:
            return trans_real.get_supported_language_variant(code)
        except LookupError:
            continue
    return ""


def visitor_language(request: HttpRequest) -> str:
    """What a visitor's request says about language before the school is known: the
    switcher's cookie, else the browser's best match ("" when neither says anything).
    The process page cache keys on it (``ops/pagecache.py``)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if is_language(chosen):
        return chosen
    return browser_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


def anonymous_language(request: HttpRequest, school: _HasLanguage | None = None) -> tuple[str, str]:
    """(language, where it came from: "visitor", "school" or "browser") for a request
    whose person is not counted: the switcher's cookie, else the school's language, else
    the browser's, else English. ``accounts.language`` puts the signed-in person first."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if is_language(chosen):
        return chosen, "visitor"
    if school is not None and is_language(school.language):
        return school.language, "school"
    found = browser_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    return found or settings.LANGUAGE_CODE, "browser"


def status_page_language(request: HttpRequest, school: _HasLanguage | None = None) -> str:
    """The language of a page answered before ``LanguageMiddleware`` (an unknown host, a
    suspended or closing school, a rate limit): nobody is signed in yet."""
    return anonymous_language(request, school)[0]


def render_status_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int,
    school: _HasLanguage | None = None,
) -> HttpResponse:
    """Render a status page in the visitor's best language (``status_page_language``)
    unless ``LanguageMiddleware`` has already chosen the request's language."""
    code = getattr(request, "LANGUAGE_CODE", None) or status_page_language(request, school)
    with translation.override(code):
        response = TemplateResponse(request, template, context, status=status).render()
    response.headers.setdefault("Content-Language", code)
    # The language may come from the cookie or the browser: caches must keep them apart.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response
