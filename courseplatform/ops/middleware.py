from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from . import edgecache
from .health import healthz, readyz

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Tag each request (and its log lines) with an id, reusing a sane upstream one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            # Threads are reused: the next request (or a task) must not inherit our ids.
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


class HealthCheckMiddleware:
    """/healthz and /readyz answer on every host, before host resolution,
    so load balancers can probe by IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        if request.path == "/readyz":
            return readyz(request)
        return self.get_response(request)


class SharedCacheGuardMiddleware:
    """Nothing personal is ever shared-cacheable (ops/edgecache.py).

    Sits outside the session, CSRF and messages middleware, so it sees the cookies they
    set: a response that sets any cookie, or an HTML page answered to a request that
    carries a session cookie, leaves with ``Cache-Control: private, no-store`` whatever
    the view said. (Public, non-HTML answers to a session — a page image, a static
    file — are the same for everyone and keep their headers.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "public" not in response.get("Cache-Control", ""):
            return response
        html = response.get("Content-Type", "").startswith("text/html")
        if response.cookies or (html and not edgecache.is_visitor(request)):
            edgecache.make_private(response)
        return response
