"""The course outline in the editor: sections and lessons added, renamed, moved (by
drag-and-drop, or one step with the keyboard and no-JS buttons) and deleted."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext

from courseplatform.accounts.decorators import manager_required
from courseplatform.tenancy.timezones import school_zone

from .. import drip, selectors, services
from ..models import Course
from ..services import CourseError
from .common import (
    editor_url,
    get_course,
    get_lesson,
    get_section,
    is_htmx,
    lesson_url,
    school_of,
    submit,
    user_of,
)
from .editor import (
    lesson_add_form,
    outline_context,
    render_editor,
    render_outline,
    section_add_form,
    section_release_form,
    section_rename_form,
)

MAX_REORDER_IDS = 2000


def _outline_done(
    request: HttpRequest, course: Course, status: str, *, anchor: str = ""
) -> HttpResponse:
    """A successful outline action: the fresh outline for htmx, else back to the editor."""
    if is_htmx(request):
        return render_outline(request, course, status)
    messages.success(request, status)
    return redirect(editor_url(course.pk, anchor))


def _outline_failed(request: HttpRequest, course: Course, **kwargs: Any) -> HttpResponse:
    """A refused outline action: the outline with the error shown where it belongs."""
    # A service that raised may have changed the in-memory object before refusing.
    course = get_course(request, course.pk)
    if is_htmx(request):
        error = kwargs.get("outline_error")
        status = (
            gettext("Could not save: %(error)s") % {"error": error}
            if error
            else gettext("Could not save: check the marked field.")
        )
        return render_outline(request, course, status, failed=True, **kwargs)
    return render_editor(request, course, **kwargs)


def _posted_ids(request: HttpRequest) -> list[int]:
    """The ids of a reorder request: JSON ``{"ids": [..]}`` or form fields ``ids``."""
    raw: Any
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise ValueError("The request body is not valid JSON.") from exc
        raw = payload.get("ids") if isinstance(payload, dict) else payload
    else:
        raw = request.POST.getlist("ids") or request.POST.getlist("ids[]")
        if len(raw) == 1 and "," in raw[0]:
            raw = raw[0].split(",")
    if not isinstance(raw, list) or len(raw) > MAX_REORDER_IDS:
        raise ValueError("Send the new order as a list of ids.")
    ids: list[int] = []
    for value in raw:
        if isinstance(value, bool):
            raise ValueError("Send the new order as a list of ids.")
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise ValueError("Send the new order as a list of ids.") from exc
        if not 0 < number < 2**63:
            raise ValueError("Send the new order as a list of ids.")
        ids.append(number)
    return ids


def _reorder_error(message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=400)


@manager_required
def outline(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if not is_htmx(request):
        return redirect(editor_url(course.pk, "outline"))
    context = outline_context(course, zone=school_zone(school_of(request)))
    return render(request, "courses/manage/_outline.html", context)


# --- sections -----------------------------------------------------------------------------


@manager_required
def section_add(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if request.method != "POST":
        return redirect(editor_url(course.pk, "outline"))
    form = section_add_form(request.POST)
    section = submit(
        form,
        lambda data: services.add_section(
            school=school_of(request), actor=user_of(request), course=course, title=data["title"]
        ),
    )
    if section is None:
        return _outline_failed(request, course, new_section_form=form)
    return _outline_done(
        request,
        course,
        gettext("Section “%(title)s” added.") % {"title": section.title},
        anchor=f"section-{section.pk}",
    )


@manager_required
def section_rename(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(editor_url(course.pk, f"section-{section.pk}"))
    form = section_rename_form(section, request.POST)
    renamed = submit(
        form,
        lambda data: services.rename_section(
            school=school_of(request), actor=user_of(request), section=section, title=data["title"]
        ),
    )
    if renamed is None:
        return _outline_failed(request, course, bound={("rename", section.pk): form})
    return _outline_done(
        request,
        course,
        gettext("Section renamed to “%(title)s”.") % {"title": renamed.title},
        anchor=f"section-{section.pk}",
    )


@manager_required
def section_release(request: HttpRequest, section_id: int) -> HttpResponse:
    """When the section opens for enrolled students (drip schedule)."""
    section = get_section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(editor_url(course.pk, f"section-{section.pk}"))
    form = section_release_form(section, request.POST)
    saved = submit(
        form,
        lambda data: drip.set_section_release(
            school=school_of(request),
            actor=user_of(request),
            section=section,
            release=data["release"],
            days=data["days"],
            on_date=data["on_date"],
        ),
    )
    if saved is None:
        return _outline_failed(request, course, bound={("release", section.pk): form})
    schedule = drip.schedule_label(saved, zone=school_zone(school_of(request)))
    status = (
        gettext("“%(title)s”: %(schedule)s.") % {"title": saved.title, "schedule": schedule}
        if schedule
        else gettext("“%(title)s”: opens immediately.") % {"title": saved.title}
    )
    return _outline_done(
        request,
        course,
        status,
        anchor=f"section-{section.pk}",
    )


@manager_required
def section_delete(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section(request, section_id)
    course = section.course
    if request.method == "POST":
        title = section.title
        services.delete_section(school=school_of(request), actor=user_of(request), section=section)
        return _outline_done(
            request,
            course,
            gettext("Section “%(title)s” deleted.") % {"title": title},
            anchor="outline",
        )
    lessons = section.lessons.count()
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": gettext("Delete the section “%(title)s”?") % {"title": section.title},
            "consequences": [
                ngettext(
                    "%(count)d lesson in this section, with its text and files",
                    "%(count)d lessons in this section, with their text and files",
                    lessons,
                )
                % {"count": lessons}
            ],
            "button": gettext("Delete section"),
            "cancel_url": editor_url(course.pk, f"section-{section.pk}"),
        },
    )


@manager_required
def section_move(request: HttpRequest, section_id: int) -> HttpResponse:
    """Keyboard and no-JS fallback for dragging: swap a section with its neighbour."""
    section = get_section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(editor_url(course.pk, f"section-{section.pk}"))
    direction = request.POST.get("direction")
    ids = [s.pk for s in selectors.outline(course=course)]
    index = ids.index(section.pk)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if not 0 <= target < len(ids):
        already = (
            gettext("“%(title)s” is already the first section.")
            if direction == "up"
            else gettext("“%(title)s” is already the last section.")
        )
        return _outline_done(
            request,
            course,
            already % {"title": section.title},
            anchor=f"section-{section.pk}",
        )
    ids[index], ids[target] = ids[target], ids[index]
    try:
        services.reorder_sections(
            school=school_of(request), actor=user_of(request), course=course, section_ids=ids
        )
    except CourseError as exc:
        return _outline_failed(request, course, outline_error=str(exc))
    return _outline_done(
        request,
        course,
        (
            gettext("Moved “%(title)s” up: now section %(number)d.")
            if direction == "up"
            else gettext("Moved “%(title)s” down: now section %(number)d.")
        )
        % {"title": section.title, "number": target + 1},
        anchor=f"section-{section.pk}",
    )


@manager_required
def reorder_sections(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        ids = _posted_ids(request)
        services.reorder_sections(
            school=school_of(request), actor=user_of(request), course=course, section_ids=ids
        )
    except (ValueError, CourseError) as exc:
        return _reorder_error(str(exc))
    return JsonResponse({"ok": True, "message": gettext("Saved")})


# --- lessons in the outline ---------------------------------------------------------------


@manager_required
def lesson_add(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(editor_url(course.pk, f"section-{section.pk}"))
    form = lesson_add_form(section, request.POST)
    lesson = submit(
        form,
        lambda data: services.add_lesson(
            school=school_of(request),
            actor=user_of(request),
            section=section,
            title=data["title"],
            kind=data["kind"],
        ),
    )
    if lesson is None:
        return _outline_failed(request, course, bound={("lesson", section.pk): form})
    return _outline_done(
        request,
        course,
        gettext("Lesson “%(lesson)s” added to “%(section)s”.")
        % {"lesson": lesson.title, "section": section.title},
        anchor=f"lesson-{lesson.pk}",
    )


@manager_required
def reorder_lessons(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section(request, section_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        ids = _posted_ids(request)
        services.reorder_lessons(
            school=school_of(request), actor=user_of(request), section=section, lesson_ids=ids
        )
    except (ValueError, CourseError) as exc:
        return _reorder_error(str(exc))
    return JsonResponse({"ok": True, "message": gettext("Saved")})


@manager_required
def lesson_move(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Keyboard and no-JS fallback for dragging: one step up or down, crossing into the
    neighbouring section at the ends of a section."""
    lesson = get_lesson(request, lesson_id)
    course = lesson.course
    anchor = f"lesson-{lesson.pk}"
    if request.method != "POST":
        return redirect(editor_url(course.pk, anchor))
    direction = request.POST.get("direction")
    sections = selectors.outline(course=course)
    index = next(i for i, s in enumerate(sections) if s.pk == lesson.section_id)
    section = sections[index]
    ids = [item.pk for item in section.lessons.all()]
    position = ids.index(lesson.pk)
    school, user = school_of(request), user_of(request)
    try:
        if direction == "up" and position > 0:
            ids[position - 1], ids[position] = ids[position], ids[position - 1]
            services.reorder_lessons(school=school, actor=user, section=section, lesson_ids=ids)
            status = gettext("Moved “%(title)s” up.") % {"title": lesson.title}
        elif direction == "down" and position < len(ids) - 1:
            ids[position + 1], ids[position] = ids[position], ids[position + 1]
            services.reorder_lessons(school=school, actor=user, section=section, lesson_ids=ids)
            status = gettext("Moved “%(title)s” down.") % {"title": lesson.title}
        elif direction == "up" and index > 0:
            target = sections[index - 1]
            target_ids = [item.pk for item in target.lessons.all()] + [lesson.pk]
            services.reorder_lessons(
                school=school, actor=user, section=target, lesson_ids=target_ids
            )
            status = gettext("Moved “%(title)s” to the end of “%(section)s”.") % {
                "title": lesson.title,
                "section": target.title,
            }
        elif direction == "down" and index < len(sections) - 1:
            target = sections[index + 1]
            target_ids = [lesson.pk] + [item.pk for item in target.lessons.all()]
            services.reorder_lessons(
                school=school, actor=user, section=target, lesson_ids=target_ids
            )
            status = gettext("Moved “%(title)s” to the start of “%(section)s”.") % {
                "title": lesson.title,
                "section": target.title,
            }
        else:
            already = (
                gettext("“%(title)s” is already the first lesson of the course.")
                if direction == "up"
                else gettext("“%(title)s” is already the last lesson of the course.")
            )
            status = already % {"title": lesson.title}
    except CourseError as exc:
        return _outline_failed(request, course, outline_error=str(exc))
    return _outline_done(request, course, status, anchor=anchor)


@manager_required
def lesson_delete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_lesson(request, lesson_id)
    course = lesson.course
    if request.method == "POST":
        title = lesson.title
        services.delete_lesson(school=school_of(request), actor=user_of(request), lesson=lesson)
        return _outline_done(
            request,
            course,
            gettext("Lesson “%(title)s” deleted.") % {"title": title},
            anchor=f"section-{lesson.section_id}",
        )
    files_count = lesson.attachments.count()
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": gettext("Delete the lesson “%(title)s”?") % {"title": lesson.title},
            "consequences": [
                gettext("its text and settings"),
                ngettext("%(count)d attached file", "%(count)d attached files", files_count)
                % {"count": files_count},
                gettext("students' progress on this lesson"),
            ],
            "button": gettext("Delete lesson"),
            "cancel_url": lesson_url(lesson.pk),
        },
    )
