from typing import Any

from django.conf import settings
from django.http import HttpRequest


def tenancy(request: HttpRequest) -> dict[str, Any]:
    return {
        "school": getattr(request, "school", None),
        "is_platform_site": getattr(request, "host_kind", "") == "platform",
        "PLATFORM_DOMAIN": settings.PLATFORM_DOMAIN,
    }
