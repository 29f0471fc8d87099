from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# Stands in for a missing or garbled peer address so rate limits still have a key.
UNKNOWN_IP = "0.0.0.0"  # noqa: S104


def client_ip(request: HttpRequest) -> str:
    """The client address, trusting X-Forwarded-For only from known proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or UNKNOWN_IP
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            remote = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return UNKNOWN_IP
