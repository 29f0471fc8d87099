"""A school with a primary custom domain answers there: its platform subdomain sends
visitors over with a permanent redirect, path and query kept.

Stays on the subdomain (no redirect):

* ``/manage/``: the management area works on both hosts (an owner signed in on one
  moves to the other through a one-time login link, ``views_hop.py``), so a broken
  custom domain never locks the owner out of the school.
* ``/accounts/login-link/`` and ``/accounts/logout/``: the hop and signing out
  belong to the host the session lives on.
* what pages of the management area load from their own host: ``/static/``, the
  school's files and branding (``/files/``, ``/branding/``, ``/site-media/``,
  ``/covers/``) and
  video (``/video/``, the player in lesson previews). Redirecting those would make the
  browser fetch them cross-origin, which the Content-Security-Policy forbids.
* ``/api/``: API clients drop their Authorization header on a redirect to another
  host; the API answers on every host of the school.
* anything but GET and HEAD: a redirected POST would lose its body.

Health checks (``/healthz``, ``/readyz``) and the TLS ask endpoint answer before host
resolution and never get here. The redirect stops as soon as the domain is no longer
primary or no longer serves traffic (``custom_hosts.primary_custom_host``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from courseplatform.tenancy.custom_hosts import primary_custom_host
from courseplatform.tenancy.selectors import school_url

STAYS_ON_SUBDOMAIN = (
    "/manage/",
    "/accounts/login-link/",
    "/accounts/logout/",
    "/static/",
    "/files/",
    "/branding/",
    "/site-media/",
    "/covers/",
    "/video/",
    "/api/",
)


def stays_on_subdomain(path: str) -> bool:
    return path == "/manage" or path.startswith(STAYS_ON_SUBDOMAIN)


class PrimaryDomainRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        school = getattr(request, "school", None)
        if (
            school is not None
            and not getattr(request, "on_custom_domain", False)
            and request.method in ("GET", "HEAD")
            and not stays_on_subdomain(request.path)
            and primary_custom_host(school) is not None
        ):
            # The path is appended to the school's own verified host: whatever it holds
            # ("//evil.example", "/\\evil"), the redirect cannot leave that host.
            port = request.host_port  # type: ignore[attr-defined]
            return HttpResponsePermanentRedirect(
                school_url(school, request.get_full_path(), port=port)
            )
        return self.get_response(request)
