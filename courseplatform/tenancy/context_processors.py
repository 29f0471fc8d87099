from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import platform_url


def tenancy(request: HttpRequest) -> dict[str, Any]:
    # Links between hosts keep the port the visitor used (":8000" in development).
    port = getattr(request, "host_port", None)
    return {
        "school": getattr(request, "school", None),
        "is_platform_site": getattr(request, "host_kind", "") == "platform",
        "PLATFORM_DOMAIN": settings.PLATFORM_DOMAIN,
        "PLATFORM_URL": platform_url("/", port=port),
    }
