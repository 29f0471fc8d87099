"""Caddy's on-demand TLS permission check: may the edge get a certificate for a name?

Caddy (deploy/Caddyfile, ``on_demand_tls { ask ... }``) calls
``GET /internal/tls-ask?domain=<name>`` during the first TLS handshake for a name it
has no certificate for, and obtains one only on a 200. The answer is yes only for a
name we serve right now: ``<slug>.PLATFORM_DOMAIN`` of an existing active school, a
verified custom domain (``custom_hosts``), and ``PLATFORM_DOMAIN`` itself (it normally
has its own certificate, but when Caddy merges its policy with the on-demand one, as it
does when both use the same issuer, it asks about it too). Everything else is 404, so
nobody can make us request certificates for arbitrary names pointed at our address.

Where it answers: on the platform host itself, and to a loopback peer that addresses
the app by a loopback IP (Caddy on the same machine, ``ask http://127.0.0.1:8000/...``,
sent without X-Forwarded-For, which Caddy adds to every proxied request). On school
hosts, custom domains and anything relayed by the edge it does not exist (404 from the
host's own URLconf). It runs before sessions, CSRF and templates, and reads only the
host cache, so an answer costs a cache lookup.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from .selectors import resolve_host

TLS_ASK_PATH = "/internal/tls-ask"
# A DNS name is at most 253 characters; anything longer is refused before any lookup.
_MAX_NAME_LENGTH = 253


def certificate_allowed(name: str) -> bool:
    """Whether ``name`` (a bare hostname, as Caddy sends it) is the platform or serves an
    active school."""
    name = (name or "").strip().lower().rstrip(".")
    if not name or len(name) > _MAX_NAME_LENGTH:
        return False
    if name == settings.PLATFORM_DOMAIN:
        return True
    domain, port = split_domain_port(name)
    if port or domain != name:
        # Caddy asks about hostnames only: a port, brackets or junk is nobody's certificate.
        return False
    match = resolve_host(name)
    return match.kind == "school" and match.school is not None and match.school.is_active


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def _asked_from_edge(request: HttpRequest) -> bool:
    """The platform host, or the local edge calling the app by its loopback address."""
    host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host.strip())
    if domain.rstrip(".") == settings.PLATFORM_DOMAIN:
        return True
    return (
        _is_loopback(domain)
        and _is_loopback(request.META.get("REMOTE_ADDR", ""))
        and "HTTP_X_FORWARDED_FOR" not in request.META
    )


class TlsAskMiddleware:
    """Answers ``/internal/tls-ask`` before host resolution (see module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != TLS_ASK_PATH or not _asked_from_edge(request):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        allowed = certificate_allowed(request.GET.get("domain", ""))
        response = HttpResponse(
            "ok\n" if allowed else "no\n", status=200 if allowed else 404, content_type="text/plain"
        )
        response["Cache-Control"] = "no-store"
        return response
