"""The languages a school, a student or a visitor may choose: ``settings.LANGUAGES``.

A school's language is one of them, or "" to follow each visitor's browser
(Accept-Language). Codes are Django's lower-case language codes ("pt-br").
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real

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
