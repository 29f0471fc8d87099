"""The management area on both of a school's hosts: one click moves a signed-in
manager between the platform subdomain and the primary custom domain.

Cookies are per host, so the move is a one-time login link (accounts, 60 s, single
use) issued here for the *other* host, carrying the management page to continue on.
Only that page's path travels, and only a ``/manage/`` path: the hop cannot be used to
send anyone elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.services import issue_login_link
from courseplatform.tenancy.custom_hosts import primary_custom_host

MANAGE_HOME = "/manage/"


def _management_path(value: str) -> str:
    if value.startswith(MANAGE_HOME) and url_has_allowed_host_and_scheme(
        value, allowed_hosts=None, require_https=False
    ):
        return value
    return MANAGE_HOME


def switch_target(request: HttpRequest) -> str | None:
    """The other host a manager can hop to from here, or None (no primary domain)."""
    school = getattr(request, "school", None)
    if school is None:
        return None
    primary = primary_custom_host(school)
    if primary is None:
        return None
    if getattr(request, "on_custom_domain", False):
        return f"{school.slug}.{settings.PLATFORM_DOMAIN}"
    return primary


@require_POST
@manager_required
def switch_host(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    next_path = _management_path(request.POST.get("next", ""))
    to_subdomain = bool(getattr(request, "on_custom_domain", False))
    if switch_target(request) is None:
        messages.error(request, "This school has no primary custom domain to switch to.")
        return HttpResponseRedirect(next_path)
    link = issue_login_link(
        school=school,
        user=request.user,  # type: ignore[arg-type]
        port=request.host_port,  # type: ignore[attr-defined]
        subdomain=to_subdomain,
    )
    return HttpResponseRedirect(f"{link}?{urlencode({'next': next_path})}")
