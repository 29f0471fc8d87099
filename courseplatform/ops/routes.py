"""Route names for metrics and logs: the URL pattern's name, never the raw path."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from courseplatform.tenancy.tls_ask import TLS_ASK_PATH

from .prometheus import METRICS_PATH

# Set by a middleware that answers before URL resolution on behalf of a named route
# (the process page cache answers a copy of a page it stored with its route name).
ROUTE_ATTRIBUTE = "telemetry_route"

# Answered by middleware before URL resolution: no resolver match to name them.
_MIDDLEWARE_ROUTES = {
    "/healthz": "healthz",
    "/readyz": "readyz",
    METRICS_PATH: "metrics",
    TLS_ASK_PATH: "tls_ask",
}


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name (``namespace:name``), else its route template; never the
    raw path, so a slug, id or token never becomes a label or a log field."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.view_name if match.url_name else match.route)
    named = getattr(request, ROUTE_ATTRIBUTE, None)
    if named:
        return str(named)
    path = request.path
    if path in _MIDDLEWARE_ROUTES:
        return _MIDDLEWARE_ROUTES[path]
    if path.startswith(settings.STATIC_URL):
        return "static"
    # Unknown hosts, suspended schools, redirects to a primary domain, 404s.
    return "unresolved"
