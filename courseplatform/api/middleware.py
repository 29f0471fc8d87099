"""Requests to ``/api/``: no cookies in, problem+json out.

Placed before the session, CSRF and tenant middleware: the API authenticates with
tokens only, so the session cookie is dropped before anything can read it (no session
auth, no CSRF surface), and every error answered on the way (unknown host, suspended
school, unknown path, wrong method) comes back as a problem document.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .problems import as_problem

API_PREFIX = "/api/"


class ApiRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        request.COOKIES = {}
        response = self.get_response(request)
        # Nothing of the web session may leak into API answers either.
        for name in list(response.cookies):
            del response.cookies[name]
        return as_problem(request, response)
