"""``{% download_url export %}``: a fresh signed download link, made when the page renders."""

from __future__ import annotations

from django import template

from courseplatform.portability.course_archive.links import download_path
from courseplatform.portability.models import CourseExport

register = template.Library()


@register.simple_tag
def download_url(export: CourseExport) -> str:
    return download_path(export)
