"""What every authoring view shares: the request's school and user, object lookups,
editor URLs, sanitised-HTML marking and ``submit``, the form-action shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from courseplatform.accounts.models import User
from courseplatform.ops.forms import submit as forms_submit
from courseplatform.tenancy.models import School

from .. import selectors
from ..models import Attachment, Course, Lesson, Section
from ..services import CourseError

EMPTY_PREVIEW = '<p class="muted">Nothing to preview yet.</p>'


def school_of(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def get_course(request: HttpRequest, course_id: int) -> Course:
    return selectors.get_course_for_manager(
        school=school_of(request), user=user_of(request), course_id=course_id
    )


def get_section(request: HttpRequest, section_id: int) -> Section:
    return selectors.get_section_for_manager(
        school=school_of(request), user=user_of(request), section_id=section_id
    )


def get_lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    return selectors.get_lesson_for_manager(
        school=school_of(request), user=user_of(request), lesson_id=lesson_id
    )


def get_attachment(request: HttpRequest, attachment_id: int) -> Attachment:
    return selectors.get_attachment_for_manager(
        school=school_of(request), user=user_of(request), attachment_id=attachment_id
    )


def editor_url(course_id: int, anchor: str = "") -> str:
    return reverse("courses_manage:edit", args=[course_id]) + (f"#{anchor}" if anchor else "")


def lesson_url(lesson_id: int, anchor: str = "") -> str:
    return reverse("courses_manage:lesson", args=[lesson_id]) + (f"#{anchor}" if anchor else "")


def submit[T](form: forms.Form, write: Callable[[dict[str, Any]], T]) -> T | None:
    """``ops.forms.submit`` for authoring: a ``CourseError`` (a rule about the course's
    state) is a refusal shown on top of the form."""
    return forms_submit(form, write, refusals=(CourseError,))


def safe_html(html: str) -> SafeString:
    """Mark stored/rendered author HTML safe: it comes out of ``markdown_to_html``,
    which sanitises with nh3 (no scripts, event handlers or javascript: URLs)."""
    return mark_safe(html if html.strip() else EMPTY_PREVIEW)  # noqa: S308
