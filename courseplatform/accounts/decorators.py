from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from . import permissions


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The management area: owners and instructors of the request's school only
    (anonymous visitors go to the login page, everyone else gets 403). Which objects
    inside it a person may touch is for ``permissions`` to answer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/accounts/login/")
        school = getattr(request, "school", None)
        if school is None or not permissions.can_manage_school(user, school):
            raise PermissionDenied(_("Only the school's owner and instructors can open this page."))
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like ``manager_required``, and then the school's owner only (instructors get 403)."""

    @manager_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.is_school_owner(request.user, request.school):  # type: ignore[attr-defined]
            raise PermissionDenied(_("Only the school's owner can open this page."))
        return view(request, *args, **kwargs)

    return wrapper
