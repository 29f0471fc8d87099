"""Resolve the request host to the platform site or one school."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .generation import read_once_per_request
from .rls import school_context
from .selectors import resolve_host

PLATFORM_URLCONF = "courseplatform.urls.platform"
SCHOOL_URLCONF = "courseplatform.urls.school"


class TenantMiddleware:
    """The host gate: unknown hosts get 404, suspended schools a 403 page.

    Sets ``request.school`` (None on the platform site), ``request.host_kind`` and
    the URLconf, and runs the rest of the request inside that school's RLS context.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = resolve_host(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""))
        request.school = match.school  # type: ignore[attr-defined]
        request.host_kind = match.kind  # type: ignore[attr-defined]
        request.host_port = match.port  # type: ignore[attr-defined]
        request.on_custom_domain = match.custom_domain  # type: ignore[attr-defined]
        if match.kind == "invalid":
            return HttpResponse(
                "Bad Request: invalid Host header.", status=400, content_type="text/plain"
            )
        if match.kind == "unknown":
            return TemplateResponse(request, "tenancy/unknown_host.html", status=404).render()
        if match.kind == "platform":
            request.urlconf = PLATFORM_URLCONF  # type: ignore[attr-defined]
            with school_context(None):
                return self.get_response(request)
        assert match.school is not None
        if not match.school.is_active:
            return TemplateResponse(
                request, "tenancy/suspended.html", {"school": match.school}, status=403
            ).render()
        request.urlconf = SCHOOL_URLCONF  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(school_id=match.school.pk)
        with school_context(match.school), read_once_per_request():
            return self.get_response(request)
