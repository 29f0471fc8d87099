from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from courseplatform.tenancy.models import School

from .models import Page, Theme
from .sanitize import sanitize_html


def create_default_site(*, school: School) -> tuple[Theme, Page]:
    """Every new school starts with a theme and a published landing page."""
    theme = Theme.objects.create(school=school)
    body = render_to_string("sites/default_home.html", {"school": school})
    page = Page.objects.create(
        school=school,
        slug="home",
        title=school.name,
        draft_html=sanitize_html(body),
        published_html=sanitize_html(body),
        status=Page.Status.PUBLISHED,
        is_home=True,
        published_at=timezone.now(),
    )
    return theme, page
