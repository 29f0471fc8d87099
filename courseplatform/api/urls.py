"""``/api/v1/`` on school hosts: every route of the NinjaAPI, each wrapped by ``guarded``,
and a problem+json 404 for any other path under it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path

from .api import api
from .guard import guarded
from .problems import problem_response


def _not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem_response(request, 404, "No such API endpoint.", kind="not-found")


def _guard_all(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = guarded(pattern.callback)
    return patterns


_patterns, _app, _namespace = api.urls
urlpatterns = [
    path("", (_guard_all(list(_patterns)), _app, _namespace)),
    re_path(r"^(?P<rest>.*)$", _not_found),
]
