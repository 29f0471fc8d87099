"""Resolve the request host to the platform site or one school."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from .generation import read_once_per_request
from .languages import render_status_page
from .models import School
from .rls import school_context
from .selectors import resolve_host

PLATFORM_URLCONF = "courseplatform.urls.platform"
SCHOOL_URLCONF = "courseplatform.urls.school"

# While a closed school's grace period runs, only its owner has anything to do there:
# sign in (or reset a forgotten password), read the closure page, cancel it, export and
# download the export (portability/urls_school.py). Every other path gets the "closing"
# page; once the grace period is over every path gets the "closed" page.
OPEN_WHILE_CLOSING = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/password-reset/",
    "/accounts/login-link/",
    "/manage/settings/close/",
    "/manage/settings/export/",
    "/branding/",
)


class TenantMiddleware:
    """The host gate: unknown hosts get 404, suspended schools a 403 page, closing
    schools a 503 page (but for their owner's few paths) and closed ones a 410 page.

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
            return render_status_page(request, "tenancy/unknown_host.html", status=404)
        if match.kind == "platform":
            request.urlconf = PLATFORM_URLCONF  # type: ignore[attr-defined]
            with school_context(None):
                return self.get_response(request)
        assert match.school is not None
        if not match.school.is_active:
            return render_status_page(
                request,
                "tenancy/suspended.html",
                {"school": match.school},
                status=403,
                school=match.school,
            )
        if match.school.is_closing:
            closed = _closing_page(request, match.school)
            if closed is not None:
                return closed
        request.urlconf = SCHOOL_URLCONF  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(school_id=match.school.pk)
        with school_context(match.school), read_once_per_request():
            return self.get_response(request)


def _closing_page(request: HttpRequest, school: School) -> HttpResponse | None:
    """The page a closing (or closed) school answers instead, or None to serve the path."""
    if school.purge_due:
        return render_status_page(
            request, "tenancy/closed.html", {"school": school}, status=410, school=school
        )
    if request.path.startswith(OPEN_WHILE_CLOSING):
        return None
    response = render_status_page(
        request, "tenancy/closing.html", {"school": school}, status=503, school=school
    )
    response["Cache-Control"] = "no-store"
    return response
