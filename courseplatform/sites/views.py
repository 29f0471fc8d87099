from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .sanitize import sanitize_html
from .selectors import get_published_home_page


def school_home(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    page = get_published_home_page(school)
    # Stored HTML was sanitised on save; cleaning again on render keeps a row edited
    # behind our back (shell, SQL) from ever reaching a browser unsanitised.
    body = mark_safe(sanitize_html(page.published_html)) if page else ""  # noqa: S308
    return render(request, "sites/home.html", {"page": page, "body": body})
