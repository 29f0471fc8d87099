"""Which language a page is in (the switcher that sets it: ``views_language.py``).

Precedence, first that is set wins:

1. the signed-in person's own choice (``User.language``);
2. the visitor's choice from the switcher (the ``cp_language`` cookie), so somebody who
   is not signed in can read a school in their language too;
3. the school's language (``School.language``; "" means: follow the browser);
4. the browser's ``Accept-Language``;
5. English.

Only a page in the *school's* language is the same for every visitor, so only such a
page may be kept by a shared cache (``ops/edgecache.py`` reads ``LANGUAGE_SOURCE``); a
page whose language came from a cookie or the browser is kept per language in this
process and in Redis, but tells caches in front of us that it is private.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers

from courseplatform.ops.edgecache import LANGUAGE_SOURCE
from courseplatform.tenancy.languages import anonymous_language, is_language
from courseplatform.tenancy.models import School

from .models import User

# Where a language came from: "user" here, the rest from tenancy.languages.anonymous_language.
USER, BROWSER = "user", "browser"


def resolve_language(request: HttpRequest) -> tuple[str, str]:
    """(language code, where it came from: user, visitor, school or browser)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and is_language(user.language):
        return user.language, USER
    return anonymous_language(request, getattr(request, "school", None))


def recipient_language(*, school: School | None, user: User | None) -> str:
    """The language of an email to ``user``: theirs, else their school's, else English."""
    if user is not None and is_language(user.language):
        return user.language
    if school is not None and is_language(school.language):
        return school.language
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        code, source = resolve_language(request)
        translation.activate(code)
        request.LANGUAGE_CODE = code  # type: ignore[attr-defined]
        setattr(request, LANGUAGE_SOURCE, source)
        try:
            response = self.get_response(request)
        finally:
            # Pages answered before this middleware (an unknown host, a suspended
            # school) must not inherit the previous request's language on this thread.
            translation.deactivate()
        response.headers.setdefault("Content-Language", code)
        if source == BROWSER:
            patch_vary_headers(response, ("Accept-Language",))
        return response
