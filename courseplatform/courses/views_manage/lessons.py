"""The lesson editor: its text and settings, and its attached files."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from courseplatform.accounts.decorators import manager_required
from courseplatform.ops import files
from courseplatform.tenancy.models import School

from .. import lesson_kinds, selectors, services
from ..forms import AttachmentForm, LessonForm
from ..models import Attachment, Lesson
from .common import (
    get_attachment,
    get_lesson,
    is_htmx,
    lesson_url,
    safe_html,
    school_of,
    submit,
    user_of,
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


def _render_lesson(
    request: HttpRequest,
    lesson: Lesson,
    *,
    form: LessonForm | None = None,
    attachment_form: AttachmentForm | None = None,
) -> HttpResponse:
    school = school_of(request)
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
            "body_html": safe_html(lesson.body_html),
            "kind_panel": lesson_kinds.editor_panel(request, lesson),
        },
    )


@manager_required
def lesson_edit(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_lesson(request, lesson_id)
    if request.method != "POST":
        return _render_lesson(request, lesson)
    form = LessonForm(request.POST, preview_url=reverse("courses_manage:preview"))
    saved = submit(
        form,
        lambda data: services.update_lesson(
            school=school_of(request),
            actor=user_of(request),
            lesson=lesson,
            title=data["title"],
            kind=data["kind"],
            body_md=data["body_md"],
            is_preview=data["is_preview"],
            duration_minutes=data["duration_minutes"] or 0,
        ),
    )
    if saved is not None:
        messages.success(request, gettext("Lesson saved."))
        return redirect(lesson_url(lesson.pk))
    # A refusing service may have changed the in-memory lesson: show the stored one.
    return _render_lesson(request, get_lesson(request, lesson.pk), form=form)


@manager_required
def attachment_add(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_lesson(request, lesson_id)
    if request.method != "POST":
        return redirect(lesson_url(lesson.pk, "attachments"))
    form = AttachmentForm(request.POST, request.FILES)
    attachment = submit(
        form,
        lambda data: services.add_attachment(
            school=school_of(request), actor=user_of(request), lesson=lesson, upload=data["file"]
        ),
    )
    if attachment is None:
        return _render_lesson(request, lesson, attachment_form=form)
    messages.success(request, gettext("“%(name)s” attached.") % {"name": attachment.filename})
    return redirect(lesson_url(lesson.pk, "attachments"))


@manager_required
def attachment_delete(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = get_attachment(request, attachment_id)
    lesson = attachment.lesson
    if request.method == "POST":
        filename = attachment.filename
        services.delete_attachment(
            school=school_of(request), actor=user_of(request), attachment=attachment
        )
        removed = gettext("“%(name)s” removed.") % {"name": filename}
        if is_htmx(request):
            response = render(
                request,
                "courses/manage/_attachments.html",
                {"lesson": lesson, "attachments": _attachment_rows(school_of(request), lesson)},
            )
            response["HX-Trigger"] = json.dumps({"authoringStatus": removed})
            return response
        messages.success(request, removed)
        return redirect(lesson_url(lesson.pk, "attachments"))
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": lesson.course,
            "heading": gettext("Remove “%(name)s”?") % {"name": attachment.filename},
            "consequences": [
                gettext("the file from the lesson “%(title)s”") % {"title": lesson.title}
            ],
            "button": gettext("Remove file"),
            "cancel_url": lesson_url(lesson.pk, "attachments"),
        },
    )
