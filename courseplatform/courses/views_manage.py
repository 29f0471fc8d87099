"""Instructor authoring in /manage/courses/: course list, course editor with its
outline (sections and lessons, drag-and-drop and move up/down), lesson editor
with attachments, and a Markdown preview.

Views are thin: every object comes from a ``get_*_for_manager`` selector (404
alike for a missing id, another school's id, or a course the instructor does
not teach) and every write goes through ``services``. Service errors come back
as ``ValidationError`` (shown under the field), ``CourseError`` (a message for
the person) or ``PermissionDenied`` (403).

Outline actions answer an htmx request with the re-rendered outline partial
(and an ``HX-Trigger`` status for the aria-live region); without JavaScript the
same forms post normally and redirect back to the editor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.accounts.selectors import get_school_user
from courseplatform.ops import files
from courseplatform.sites.sanitize.markdown import markdown_to_html
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url

from . import selectors, services
from .forms import (
    AttachmentForm,
    CourseCreateForm,
    CourseDetailsForm,
    CoverForm,
    LessonAddForm,
    LessonForm,
    SectionForm,
)
from .models import Attachment, Course, Lesson, Section
from .services import CourseError

MAX_REORDER_IDS = 2000
MAX_PREVIEW_CHARS = 200_000
_COVER_TYPES = {extension: content_type for content_type, extension in files.IMAGE_FORMATS.values()}


# --- helpers ------------------------------------------------------------------------------


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _course(request: HttpRequest, course_id: int) -> Course:
    return selectors.get_course_for_manager(
        school=_school(request), user=_user(request), course_id=course_id
    )


def _section(request: HttpRequest, section_id: int) -> Section:
    return selectors.get_section_for_manager(
        school=_school(request), user=_user(request), section_id=section_id
    )


def _lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    return selectors.get_lesson_for_manager(
        school=_school(request), user=_user(request), lesson_id=lesson_id
    )


def _attachment(request: HttpRequest, attachment_id: int) -> Attachment:
    return selectors.get_attachment_for_manager(
        school=_school(request), user=_user(request), attachment_id=attachment_id
    )


def _editor_url(course_id: int, anchor: str = "") -> str:
    return reverse("courses_manage:edit", args=[course_id]) + (f"#{anchor}" if anchor else "")


def _lesson_url(lesson_id: int, anchor: str = "") -> str:
    return reverse("courses_manage:lesson", args=[lesson_id]) + (f"#{anchor}" if anchor else "")


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors inline, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _cover_url(school: School, course: Course) -> str:
    if not course.cover_key:
        return ""
    extension = course.cover_key.rsplit(".", 1)[-1].lower()
    return files.signed_file_url(
        school=school,
        key=course.cover_key,
        filename=f"{course.slug}-cover.{extension}",
        content_type=_COVER_TYPES.get(extension, "application/octet-stream"),
        inline=True,
    )


def _student_url(course: Course) -> str:
    return f"/courses/{course.slug}/"


EMPTY_PREVIEW = '<p class="muted">Nothing to preview yet.</p>'


def _safe_html(html: str) -> SafeString:
    """Mark stored/rendered author HTML safe: it comes out of ``markdown_to_html``,
    which sanitises with nh3 (no scripts, event handlers or javascript: URLs)."""
    return mark_safe(html if html.strip() else EMPTY_PREVIEW)  # noqa: S308


# --- outline context ----------------------------------------------------------------------


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
    open_rename: bool = False


def _rename_form(section: Section, data: Any = None) -> SectionForm:
    return SectionForm(data, initial={"title": section.title}, auto_id=f"id_section{section.pk}_%s")


def _lesson_add_form(section: Section, data: Any = None) -> LessonAddForm:
    return LessonAddForm(data, auto_id=f"id_section{section.pk}_lesson_%s")


def _new_section_form(data: Any = None) -> SectionForm:
    form = SectionForm(data, auto_id="id_new_section_%s")
    form.fields["title"].label = "New section"
    return form


def _outline_context(
    course: Course,
    *,
    new_section_form: SectionForm | None = None,
    bound: dict[tuple[str, int], forms.Form] | None = None,
    outline_error: str = "",
) -> dict[str, Any]:
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
                rename_form=rename if isinstance(rename, SectionForm) else _rename_form(section),
                lesson_form=add if isinstance(add, LessonAddForm) else _lesson_add_form(section),
                can_move_up=not first_section,
                can_move_down=not last_section,
                open_rename=rename is not None,
            )
        )
    return {
        "course": course,
        "outline": items,
        "lesson_total": lesson_total,
        "new_section_form": new_section_form or _new_section_form(),
        "outline_error": outline_error,
    }


def _render_outline(
    request: HttpRequest, course: Course, status: str, **kwargs: Any
) -> HttpResponse:
    response = render(request, "courses/manage/_outline.html", _outline_context(course, **kwargs))
    response["HX-Trigger"] = json.dumps({"authoringStatus": status})
    return response


def _outline_done(
    request: HttpRequest, course: Course, status: str, *, anchor: str = ""
) -> HttpResponse:
    """A successful outline action: the fresh outline for htmx, else back to the editor."""
    if _is_htmx(request):
        return _render_outline(request, course, status)
    messages.success(request, status)
    return redirect(_editor_url(course.pk, anchor))


def _outline_failed(request: HttpRequest, course: Course, **kwargs: Any) -> HttpResponse:
    """A refused outline action: the outline with the error shown where it belongs."""
    course = _fresh_course(request, course)
    if _is_htmx(request):
        error = kwargs.get("outline_error")
        status = f"Could not save: {error}" if error else "Could not save: check the marked field."
        return _render_outline(request, course, status, **kwargs)
    return _render_editor(request, course, **kwargs)


def _fresh_course(request: HttpRequest, course: Course) -> Course:
    # A service that raised may have changed the in-memory object before refusing.
    return _course(request, course.pk)


def _render_editor(
    request: HttpRequest,
    course: Course,
    *,
    details_form: CourseDetailsForm | None = None,
    cover_form: CoverForm | None = None,
    **outline_kwargs: Any,
) -> HttpResponse:
    school = _school(request)
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
    details_form.fields["slug"].help_text = (
        "Students find the course at "
        + school_url(school, _student_url(course), port=request.host_port)  # type: ignore[attr-defined]
    )
    context = {
        "nav_active": "courses",
        "details_form": details_form,
        "cover_form": cover_form or CoverForm(),
        "cover_url": _cover_url(school, course),
        "student_url": _student_url(course),
        "description_html": _safe_html(course.description_html),
        "instructors": selectors.course_instructors(course=course),
        "assignable_instructors": selectors.assignable_instructors(school=school, course=course),
        "can_assign_instructors": _user(request).role == "owner",
        **_outline_context(course, **outline_kwargs),
    }
    return render(request, "courses/manage/course_edit.html", context)


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


# --- course list and creation -------------------------------------------------------------


@manager_required
def course_list(request: HttpRequest) -> HttpResponse:
    school, user = _school(request), _user(request)
    courses = list(selectors.courses_for_manager(school=school, user=user))
    used = selectors.count_courses(school=school)
    limit = school.plan.max_courses
    return render(
        request,
        "courses/manage/course_list.html",
        {
            "nav_active": "courses",
            "courses": courses,
            "plan": school.plan,
            "used": used,
            "limit": limit,
            "at_limit": limit is not None and used >= limit,
        },
    )


@manager_required
def course_create(request: HttpRequest) -> HttpResponse:
    school, user = _school(request), _user(request)
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.create_course(
                school=school,
                actor=user,
                title=form.cleaned_data["title"],
                subtitle=form.cleaned_data["subtitle"],
                description_md=form.cleaned_data["description_md"],
            )
        except CourseError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"“{course.title}” is created as a draft. Add a section and your "
                "first lesson, then publish it when it is ready.",
            )
            return redirect(_editor_url(course.pk))
    limit = school.plan.max_courses
    used = selectors.count_courses(school=school)
    return render(
        request,
        "courses/manage/course_new.html",
        {
            "nav_active": "courses",
            "form": form,
            "plan": school.plan,
            "used": used,
            "limit": limit,
            "at_limit": limit is not None and used >= limit,
        },
    )


# --- course editor ------------------------------------------------------------------------


@manager_required
def course_edit(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if request.method != "POST":
        return _render_editor(request, course)
    form = CourseDetailsForm(request.POST, preview_url=reverse("courses_manage:preview"))
    if form.is_valid():
        try:
            services.update_course(
                school=_school(request),
                actor=_user(request),
                course=course,
                title=form.cleaned_data["title"],
                subtitle=form.cleaned_data["subtitle"],
                description_md=form.cleaned_data["description_md"],
                slug=form.cleaned_data["slug"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Course details saved.")
            return redirect(_editor_url(course.pk, "details"))
    return _render_editor(request, _fresh_course(request, course), details_form=form)


@manager_required
def course_cover(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if request.method != "POST":
        return redirect(_editor_url(course.pk, "cover"))
    form = CoverForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.set_course_cover(
                school=_school(request),
                actor=_user(request),
                course=course,
                upload=form.cleaned_data["cover"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Cover image updated.")
            return redirect(_editor_url(course.pk, "cover"))
    return _render_editor(request, _fresh_course(request, course), cover_form=form)


@manager_required
def course_status(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if request.method != "POST":
        return redirect(_editor_url(course.pk))
    publish = request.POST.get("publish") == "1"
    try:
        services.set_course_status(
            school=_school(request), actor=_user(request), course=course, publish=publish
        )
    except CourseError as exc:
        messages.error(request, str(exc))
    else:
        if publish:
            messages.success(request, f"“{course.title}” is published: students can see it now.")
        else:
            messages.success(
                request,
                f"“{course.title}” is back to draft: students no longer see it in the catalogue.",
            )
    return redirect(_editor_url(course.pk))


@manager_required
def course_delete(request: HttpRequest, course_id: int) -> HttpResponse:
    school, user = _school(request), _user(request)
    course = _course(request, course_id)
    if request.method == "POST":
        title = course.title
        services.delete_course(school=school, actor=user, course=course)
        messages.success(request, f"“{title}” and everything in it was deleted.")
        return redirect("courses_manage:list")
    counted = selectors.courses_for_manager(school=school, user=user).filter(pk=course.pk).first()
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": f"Delete “{course.title}”?",
            "consequences": [
                f"{getattr(counted, 'lesson_count', 0)} lesson(s) with their text and files",
                f"{getattr(counted, 'student_count', 0)} student enrolment(s) and their progress",
            ],
            "button": "Delete course",
            "cancel_url": _editor_url(course.pk),
        },
    )


# --- outline ------------------------------------------------------------------------------


@manager_required
def outline(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if not _is_htmx(request):
        return redirect(_editor_url(course.pk, "outline"))
    return render(request, "courses/manage/_outline.html", _outline_context(course))


@manager_required
def section_add(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if request.method != "POST":
        return redirect(_editor_url(course.pk, "outline"))
    form = _new_section_form(request.POST)
    if form.is_valid():
        try:
            section = services.add_section(
                school=_school(request),
                actor=_user(request),
                course=course,
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _outline_done(
                request, course, f"Section “{section.title}” added.", anchor=f"section-{section.pk}"
            )
    return _outline_failed(request, course, new_section_form=form)


@manager_required
def section_rename(request: HttpRequest, section_id: int) -> HttpResponse:
    section = _section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(_editor_url(course.pk, f"section-{section.pk}"))
    form = _rename_form(section, request.POST)
    if form.is_valid():
        try:
            services.rename_section(
                school=_school(request),
                actor=_user(request),
                section=section,
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _outline_done(
                request,
                course,
                f"Section renamed to “{section.title}”.",
                anchor=f"section-{section.pk}",
            )
    return _outline_failed(request, course, bound={("rename", section.pk): form})


@manager_required
def section_delete(request: HttpRequest, section_id: int) -> HttpResponse:
    section = _section(request, section_id)
    course = section.course
    if request.method == "POST":
        title = section.title
        services.delete_section(school=_school(request), actor=_user(request), section=section)
        return _outline_done(request, course, f"Section “{title}” deleted.", anchor="outline")
    lessons = section.lessons.count()
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": f"Delete the section “{section.title}”?",
            "consequences": [f"{lessons} lesson(s) in this section, with their text and files"],
            "button": "Delete section",
            "cancel_url": _editor_url(course.pk, f"section-{section.pk}"),
        },
    )


@manager_required
def section_move(request: HttpRequest, section_id: int) -> HttpResponse:
    """Keyboard and no-JS fallback for dragging: swap a section with its neighbour."""
    section = _section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(_editor_url(course.pk, f"section-{section.pk}"))
    direction = request.POST.get("direction")
    ids = [s.pk for s in selectors.outline(course=course)]
    index = ids.index(section.pk)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if not 0 <= target < len(ids):
        where = "first" if direction == "up" else "last"
        return _outline_done(
            request,
            course,
            f"“{section.title}” is already the {where} section.",
            anchor=f"section-{section.pk}",
        )
    ids[index], ids[target] = ids[target], ids[index]
    try:
        services.reorder_sections(
            school=_school(request), actor=_user(request), course=course, section_ids=ids
        )
    except CourseError as exc:
        return _outline_failed(request, course, outline_error=str(exc))
    return _outline_done(
        request,
        course,
        f"Moved “{section.title}” {direction}: now section {target + 1}.",
        anchor=f"section-{section.pk}",
    )


@manager_required
def reorder_sections(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        ids = _posted_ids(request)
        services.reorder_sections(
            school=_school(request), actor=_user(request), course=course, section_ids=ids
        )
    except (ValueError, CourseError) as exc:
        return _reorder_error(str(exc))
    return JsonResponse({"ok": True, "message": "Saved"})


@manager_required
def lesson_add(request: HttpRequest, section_id: int) -> HttpResponse:
    section = _section(request, section_id)
    course = section.course
    if request.method != "POST":
        return redirect(_editor_url(course.pk, f"section-{section.pk}"))
    form = _lesson_add_form(section, request.POST)
    if form.is_valid():
        try:
            lesson = services.add_lesson(
                school=_school(request),
                actor=_user(request),
                section=section,
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _outline_done(
                request,
                course,
                f"Lesson “{lesson.title}” added to “{section.title}”.",
                anchor=f"lesson-{lesson.pk}",
            )
    return _outline_failed(request, course, bound={("lesson", section.pk): form})


@manager_required
def reorder_lessons(request: HttpRequest, section_id: int) -> HttpResponse:
    section = _section(request, section_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        ids = _posted_ids(request)
        services.reorder_lessons(
            school=_school(request), actor=_user(request), section=section, lesson_ids=ids
        )
    except (ValueError, CourseError) as exc:
        return _reorder_error(str(exc))
    return JsonResponse({"ok": True, "message": "Saved"})


@manager_required
def lesson_move(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Keyboard and no-JS fallback for dragging: one step up or down, crossing into the
    neighbouring section at the ends of a section."""
    lesson = _lesson(request, lesson_id)
    course = lesson.course
    anchor = f"lesson-{lesson.pk}"
    if request.method != "POST":
        return redirect(_editor_url(course.pk, anchor))
    direction = request.POST.get("direction")
    sections = selectors.outline(course=course)
    index = next(i for i, s in enumerate(sections) if s.pk == lesson.section_id)
    section = sections[index]
    ids = [item.pk for item in section.lessons.all()]
    position = ids.index(lesson.pk)
    school, user = _school(request), _user(request)
    try:
        if direction == "up" and position > 0:
            ids[position - 1], ids[position] = ids[position], ids[position - 1]
            services.reorder_lessons(school=school, actor=user, section=section, lesson_ids=ids)
            status = f"Moved “{lesson.title}” up."
        elif direction == "down" and position < len(ids) - 1:
            ids[position + 1], ids[position] = ids[position], ids[position + 1]
            services.reorder_lessons(school=school, actor=user, section=section, lesson_ids=ids)
            status = f"Moved “{lesson.title}” down."
        elif direction == "up" and index > 0:
            target = sections[index - 1]
            target_ids = [item.pk for item in target.lessons.all()] + [lesson.pk]
            services.reorder_lessons(
                school=school, actor=user, section=target, lesson_ids=target_ids
            )
            status = f"Moved “{lesson.title}” to the end of “{target.title}”."
        elif direction == "down" and index < len(sections) - 1:
            target = sections[index + 1]
            target_ids = [lesson.pk] + [item.pk for item in target.lessons.all()]
            services.reorder_lessons(
                school=school, actor=user, section=target, lesson_ids=target_ids
            )
            status = f"Moved “{lesson.title}” to the start of “{target.title}”."
        else:
            where = "first" if direction == "up" else "last"
            status = f"“{lesson.title}” is already the {where} lesson of the course."
    except CourseError as exc:
        return _outline_failed(request, course, outline_error=str(exc))
    return _outline_done(request, course, status, anchor=anchor)


@manager_required
def lesson_delete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    course = lesson.course
    if request.method == "POST":
        title = lesson.title
        services.delete_lesson(school=_school(request), actor=_user(request), lesson=lesson)
        return _outline_done(
            request, course, f"Lesson “{title}” deleted.", anchor=f"section-{lesson.section_id}"
        )
    files_count = lesson.attachments.count()
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": f"Delete the lesson “{lesson.title}”?",
            "consequences": [
                "its text and settings",
                f"{files_count} attached file(s)",
                "students' progress on this lesson",
            ],
            "button": "Delete lesson",
            "cancel_url": _lesson_url(lesson.pk),
        },
    )


# --- lesson editor ------------------------------------------------------------------------


def _render_lesson(
    request: HttpRequest,
    lesson: Lesson,
    *,
    form: LessonForm | None = None,
    attachment_form: AttachmentForm | None = None,
) -> HttpResponse:
    school = _school(request)
    course = lesson.course
    if form is None:
        form = LessonForm(
            initial={
                "title": lesson.title,
                "kind": lesson.kind,
                "duration_minutes": lesson.duration_minutes,
                "is_preview": lesson.is_preview,
                "body_md": lesson.body_md,
            },
            preview_url=reverse("courses_manage:preview"),
        )
    # Prev/next through the whole course, section by section.
    flat = [item for section in selectors.outline(course=course) for item in section.lessons.all()]
    index = next(i for i, item in enumerate(flat) if item.pk == lesson.pk)
    return render(
        request,
        "courses/manage/lesson_edit.html",
        {
            "nav_active": "courses",
            "course": course,
            "lesson": lesson,
            "section": lesson.section,
            "form": form,
            "attachment_form": attachment_form or AttachmentForm(),
            "attachments": _attachment_rows(school, lesson),
            "position": index + 1,
            "lesson_count": len(flat),
            "previous": flat[index - 1] if index > 0 else None,
            "next": flat[index + 1] if index + 1 < len(flat) else None,
            "max_attachment_bytes": files.max_attachment_bytes(school),
            "body_html": _safe_html(lesson.body_html),
        },
    )


def _attachment_rows(school: School, lesson: Lesson) -> list[tuple[Attachment, str]]:
    return [
        (
            attachment,
            files.signed_file_url(
                school=school,
                key=attachment.storage_key,
                filename=attachment.filename,
                content_type=attachment.content_type,
            ),
        )
        for attachment in lesson.attachments.all()
    ]


@manager_required
def lesson_edit(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    if request.method != "POST":
        return _render_lesson(request, lesson)
    form = LessonForm(request.POST, preview_url=reverse("courses_manage:preview"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_lesson(
                school=_school(request),
                actor=_user(request),
                lesson=lesson,
                title=data["title"],
                kind=data["kind"],
                body_md=data["body_md"],
                is_preview=data["is_preview"],
                duration_minutes=data["duration_minutes"] or 0,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Lesson saved.")
            return redirect(_lesson_url(lesson.pk))
    return _render_lesson(request, _lesson(request, lesson.pk), form=form)


@manager_required
def attachment_add(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    if request.method != "POST":
        return redirect(_lesson_url(lesson.pk, "attachments"))
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = services.add_attachment(
                school=_school(request),
                actor=_user(request),
                lesson=lesson,
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"“{attachment.filename}” attached.")
            return redirect(_lesson_url(lesson.pk, "attachments"))
    return _render_lesson(request, lesson, attachment_form=form)


@manager_required
def attachment_delete(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = _attachment(request, attachment_id)
    lesson = attachment.lesson
    if request.method == "POST":
        filename = attachment.filename
        services.delete_attachment(
            school=_school(request), actor=_user(request), attachment=attachment
        )
        if _is_htmx(request):
            response = render(
                request,
                "courses/manage/_attachments.html",
                {
                    "lesson": lesson,
                    "attachments": _attachment_rows(_school(request), lesson),
                },
            )
            response["HX-Trigger"] = json.dumps({"authoringStatus": f"“{filename}” removed."})
            return response
        messages.success(request, f"“{filename}” removed.")
        return redirect(_lesson_url(lesson.pk, "attachments"))
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": lesson.course,
            "heading": f"Remove “{attachment.filename}”?",
            "consequences": [f"the file from the lesson “{lesson.title}”"],
            "button": "Remove file",
            "cancel_url": _lesson_url(lesson.pk, "attachments"),
        },
    )


@manager_required
@require_POST
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the sanitised HTML a Markdown field will publish (nothing is saved)."""
    source = ""
    for name in ("body_md", "description_md", "markdown"):
        if name in request.POST:
            source = request.POST[name]
            break
    if len(source) > MAX_PREVIEW_CHARS:
        html = _safe_html('<p class="muted">This text is too long to preview; save to see it.</p>')
    else:
        html = _safe_html(markdown_to_html(source))
    return render(request, "courses/_prose.html", {"html": html})


@manager_required
def course_instructor(request: HttpRequest, course_id: int) -> HttpResponse:
    """Owner adds (``action=add``) or removes (``action=remove``) a course instructor."""
    course = _course(request, course_id)
    if request.method != "POST":
        return redirect(_editor_url(course.pk, "instructors"))
    school = _school(request)
    try:
        person = get_school_user(school=school, user_id=int(request.POST.get("user", "")))
    except (ValueError, User.DoesNotExist) as exc:
        raise Http404("No such person.") from exc
    teaching = request.POST.get("action") == "add"
    try:
        services.set_course_instructor(
            school=school, actor=_user(request), course=course, user=person, teaching=teaching
        )
    except CourseError as exc:
        messages.error(request, str(exc))
    else:
        name = person.full_name or person.email
        messages.success(
            request, f"{name} {'now teaches' if teaching else 'no longer teaches'} this course."
        )
    return redirect(_editor_url(course.pk, "instructors"))
