from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The management area: owners and instructors of the request's school only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/accounts/login/")
        if getattr(request, "school", None) is None or not user.can_manage_school:  # type: ignore[union-attr]
            raise PermissionDenied("Only the school's owner and instructors can open this page.")
        return view(request, *args, **kwargs)

    return wrapper
