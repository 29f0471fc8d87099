from typing import Any

from django.http import HttpRequest

from .selectors import get_cached_theme
from .theming import branding_path, theme_css_variables, theme_stylesheets


def theme(request: HttpRequest) -> dict[str, Any]:
    """The school's theme for base.html: CSS variables, font stylesheets, logo, favicon."""
    school = getattr(request, "school", None)
    if school is None:
        return {"theme": None}
    cached = getattr(request, "_theme_context", None)
    if cached is None:
        current = get_cached_theme(school)
        cached = {"theme": current}
        if current is not None:
            cached.update(
                {
                    "theme_css": theme_css_variables(current),
                    "theme_stylesheets": theme_stylesheets(current),
                    "theme_logo_url": branding_path(current, "logo"),
                    "theme_favicon_url": branding_path(current, "favicon"),
                }
            )
        request._theme_context = cached  # type: ignore[attr-defined]
    return cached
