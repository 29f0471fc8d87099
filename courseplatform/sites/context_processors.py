from typing import Any

from django.conf import settings
from django.http import HttpRequest

from courseplatform.tenancy.heard import HeardCopies

from .selectors import get_cached_theme
from .theming import branding_path, theme_css_variables, theme_stylesheets

# Each school's theme context, in this process while it hears every change: a theme
# save bumps the content generation, which announces "school:<id>" (tenancy/heard.py).
# Every signed-in page and every visitor page not answered from memory skips two Redis
# round trips (the generation and the theme) and the CSS it is rendered into.
_contexts: HeardCopies[dict[str, Any]] = HeardCopies(
    size=settings.SCHOOL_CACHE_SIZE, lifetime=settings.PUBLIC_PAGE_LIFETIME_SECONDS
)


def _theme_context(school: Any) -> dict[str, Any]:
    found = _contexts.get(school.pk)
    if found is not None:
        return found.value
    stamp = _contexts.begin()
    current = get_cached_theme(school)
    context: dict[str, Any] = {"theme": current}
    if current is not None:
        context.update(
            {
                "theme_css": theme_css_variables(current),
                "theme_stylesheets": theme_stylesheets(current),
                "theme_logo_url": branding_path(current, "logo"),
                "theme_favicon_url": branding_path(current, "favicon"),
            }
        )
    _contexts.put(school.pk, context, names=(f"school:{school.pk}",), stamp=stamp)
    return context


def theme(request: HttpRequest) -> dict[str, Any]:
    """The school's theme for base.html: CSS variables, font stylesheets, logo, favicon."""
    school = getattr(request, "school", None)
    if school is None:
        return {"theme": None}
    cached = getattr(request, "_theme_context", None)
    if cached is None:
        cached = _theme_context(school)
        request._theme_context = cached  # type: ignore[attr-defined]
    return cached
