from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from courseplatform.ops.net import client_ip
from courseplatform.tenancy.rls import platform_bypass

# Staff sign in where they sign in to Django admin (the same accounts, no school).
LOGIN_URL = "/admin/login/"


def staff_console(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The operator console: the platform host only (404 elsewhere), signed-in active
    staff only (visitors go to the staff login, anyone else gets 403), and the view
    runs inside the audited ``platform_bypass`` as the platform role, like Django admin
    (accounts/middleware.py): every request leaves a ``platform.rls_bypass`` entry."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "host_kind", None) != "platform":
            raise Http404("No operator console here.")
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if not (user.is_staff and user.is_active):
            raise PermissionDenied(_("The operator console is for platform staff."))
        reason = f"operator console {request.method} {request.path}"[:200]
        with platform_bypass(actor=user, reason=reason, ip=client_ip(request)):
            return view(request, *args, **kwargs)

    return wrapper
