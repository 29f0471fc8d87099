"""The course editor page: details, cover, instructors and the outline (sections and
lessons with their move buttons and inline forms). Shared by the course and outline
views, which re-render it (or just its outline partial) with a refused form bound."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from courseplatform.accounts import permissions
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.timezones import UTC, school_zone

from .. import drip, selectors
from ..extensions import course_manage_links
from ..forms import CourseDetailsForm, CoverForm, LessonAddForm, SectionForm, SectionReleaseForm
from ..models import Course, Lesson, Section
from ..views import cover_url
from .common import safe_html, school_of, user_of


@dataclass
class OutlineLesson:
    lesson: Lesson
    number: str
    can_move_up: bool
    can_move_down: bool


@dataclass
class OutlineSection:
    section: Section
    number: int
    lessons: list[OutlineLesson]
    rename_form: SectionForm
    lesson_form: LessonAddForm
    can_move_up: bool
    can_move_down: bool
    release_form: SectionReleaseForm
    schedule: str = ""
    open_rename: bool = False


def section_rename_form(section: Section, data: Any = None) -> SectionForm:
    return SectionForm(data, initial={"title": section.title}, auto_id=f"id_section{section.pk}_%s")


def section_release_form(section: Section, data: Any = None) -> SectionReleaseForm:
    return SectionReleaseForm(
        data,
        initial={
            "release": section.release,
            "days": section.release_days if section.release_days is not None else "",
            "on_date": section.release_date.isoformat() if section.release_date else "",
        },
        auto_id=f"id_section{section.pk}_release_%s",
    )


def lesson_add_form(section: Section, data: Any = None) -> LessonAddForm:
    return LessonAddForm(data, auto_id=f"id_section{section.pk}_lesson_%s")


def section_add_form(data: Any = None) -> SectionForm:
    form = SectionForm(data, auto_id="id_new_section_%s")
    form.fields["title"].label = gettext("New section")
    return form


def outline_context(
    course: Course,
    *,
    new_section_form: SectionForm | None = None,
    bound: dict[tuple[str, int], forms.Form] | None = None,
    outline_error: str = "",
    zone: ZoneInfo = UTC,
) -> dict[str, Any]:
    """``bound`` holds refused forms by (``"rename"`` | ``"lesson"`` | ``"release"``,
    section id)."""
    bound = bound or {}
    sections = selectors.outline(course=course)
    items: list[OutlineSection] = []
    lesson_total = 0
    for index, section in enumerate(sections):
        lessons = list(section.lessons.all())
        lesson_total += len(lessons)
        first_section, last_section = index == 0, index == len(sections) - 1
        rename = bound.get(("rename", section.pk))
        add = bound.get(("lesson", section.pk))
        release = bound.get(("release", section.pk))
        items.append(
            OutlineSection(
                section=section,
                number=index + 1,
                lessons=[
                    OutlineLesson(
                        lesson=lesson,
                        number=f"{index + 1}.{position + 1}",
                        can_move_up=not (first_section and position == 0),
                        can_move_down=not (last_section and position == len(lessons) - 1),
                    )
                    for position, lesson in enumerate(lessons)
                ],
                rename_form=rename
                if isinstance(rename, SectionForm)
                else section_rename_form(section),
                lesson_form=add if isinstance(add, LessonAddForm) else lesson_add_form(section),
                can_move_up=not first_section,
                can_move_down=not last_section,
                release_form=release
                if isinstance(release, SectionReleaseForm)
                else section_release_form(section),
                schedule=drip.schedule_label(section, zone=zone),
                open_rename=rename is not None or release is not None,
            )
        )
    return {
        "course": course,
        "outline": items,
        "lesson_total": lesson_total,
        "new_section_form": new_section_form or section_add_form(),
        "outline_error": outline_error,
    }


def render_outline(
    request: HttpRequest, course: Course, status: str, *, failed: bool = False, **kwargs: Any
) -> HttpResponse:
    """The outline partial with an ``authoringStatus`` for the aria-live region
    (``authoringFailed`` too when refused: the status is translated, so outline.js
    cannot tell a refusal by its words)."""
    response = render(
        request,
        "courses/manage/_outline.html",
        outline_context(course, zone=school_zone(school_of(request)), **kwargs),
    )
    events: dict[str, Any] = {"authoringStatus": status}
    if failed:
        events["authoringFailed"] = True
    response["HX-Trigger"] = json.dumps(events)
    return response


def student_url(course: Course) -> str:
    return f"/courses/{course.slug}/"


def student_preview_url(course: Course) -> str:
    """The course page as a student enrolled right now sees it (drip schedule included)."""
    return f"/courses/{course.slug}/?preview=student"


def render_editor(
    request: HttpRequest,
    course: Course,
    *,
    details_form: CourseDetailsForm | None = None,
    cover_form: CoverForm | None = None,
    **outline_kwargs: Any,
) -> HttpResponse:
    school = school_of(request)
    preview_url = reverse("courses_manage:preview")
    if details_form is None:
        details_form = CourseDetailsForm(
            initial={
                "title": course.title,
                "slug": course.slug,
                "subtitle": course.subtitle,
                "description_md": course.description_md,
            },
            preview_url=preview_url,
        )
    address = school_url(school, student_url(course), port=request.host_port)  # type: ignore[attr-defined]
    # The URL isolated (U+2066 LRI … U+2069 PDI): in a right-to-left sentence its
    # slashes and hyphens would otherwise be reordered.
    details_form.fields["slug"].help_text = gettext("Students find the course at %(url)s") % {
        "url": f"\u2066{address}\u2069"
    }
    context = {
        "nav_active": "courses",
        "details_form": details_form,
        "cover_form": cover_form or CoverForm(),
        "cover_url": cover_url(school, course),
        "student_url": student_preview_url(course),
        "description_html": safe_html(course.description_html),
        "instructors": selectors.course_instructors(course=course),
        "assignable_instructors": selectors.assignable_instructors(school=school, course=course),
        "can_assign_instructors": permissions.is_school_owner(user_of(request), school),
        # Buttons of the apps above courses (the certificate settings), extensions.py.
        "extra_links": [
            (link.label, reverse(link.url_name, args=[course.pk]))
            for link in course_manage_links()
            if not link.owner_only or permissions.is_school_owner(user_of(request), school)
        ],
        **outline_context(course, zone=school_zone(school), **outline_kwargs),
    }
    return render(request, "courses/manage/course_edit.html", context)
