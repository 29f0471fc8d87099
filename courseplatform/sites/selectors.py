from __future__ import annotations

from courseplatform.tenancy.models import School

from .models import Page, Theme


def get_theme(school: School) -> Theme | None:
    return Theme.objects.filter(school=school).first()


def get_published_home_page(school: School) -> Page | None:
    return Page.objects.filter(school=school, is_home=True, status=Page.Status.PUBLISHED).first()
