"""``/api/v1/`` on school hosts: every route of the NinjaAPI, each wrapped by ``guarded``,
the byte channel of API video uploads, and a problem+json 404 for any other path under it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path

from .api import api
from .guard import guarded
from .problems import problem_response
from .video_uploads import video_upload


def _not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem_response(request, 404, "No such API endpoint.", kind="not-found")


def _guard_all(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = guarded(pattern.callback)
    return patterns


_patterns, _app, _namespace = api.urls
urlpatterns = [
    # The bytes of a video upload (local storage): a signed URL, outside ninja and its
    # write wrapper, which would read the whole body (video_uploads.py).
    path("uploads/<str:grant>", video_upload, name="api_video_upload"),
    path("", (_guard_all(list(_patterns)), _app, _namespace)),
    re_path(r"^(?P<rest>.*)$", _not_found),
]
