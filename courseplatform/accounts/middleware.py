from __future__ import annotations

from collections.abc import Callable

import structlog
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from courseplatform.ops.net import client_ip
from courseplatform.tenancy.rls import platform_bypass


class SchoolAccountMiddleware:
    """An account belongs to exactly one host: a session whose user is from
    another school (or staff on a school host) is logged out. Platform staff on
    the operator console work through the audited RLS bypass."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        school = getattr(request, "school", None)
        user = request.user
        if user.is_authenticated and user.school_id != (school.pk if school else None):
            logout(request)
        if request.user.is_authenticated:
            structlog.contextvars.bind_contextvars(user_id=request.user.pk)
        if (
            request.host_kind == "platform"  # type: ignore[attr-defined]
            and request.path.startswith("/admin/")
            and request.user.is_authenticated
            and request.user.is_staff
        ):
            with platform_bypass(
                actor=request.user,
                reason=f"operator console {request.method} {request.path}"[:200],
                ip=client_ip(request),
            ):
                return self.get_response(request)
        return self.get_response(request)
