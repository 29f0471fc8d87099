from typing import Any

from django.http import HttpRequest

from .selectors import get_theme


def theme(request: HttpRequest) -> dict[str, Any]:
    school = getattr(request, "school", None)
    return {"theme": get_theme(school) if school is not None else None}
