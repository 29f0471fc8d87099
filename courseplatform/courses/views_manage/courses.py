"""Courses in the management area: the list, creation, the details and cover forms of
the editor, publishing, deletion and the Markdown preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.sanitize.markdown import external_image_problem, markdown_to_html
from courseplatform.tenancy.models import School

from .. import selectors, services
from ..extensions import course_list_actions
from ..forms import CourseCreateForm, CourseDetailsForm, CoverForm
from ..services import CourseError
from .common import editor_url, get_course, safe_html, school_of, submit, user_of
from .editor import render_editor

MAX_PREVIEW_CHARS = 200_000


def _plan_context(school: School) -> dict[str, object]:
    limit = school.plan.max_courses
    used = selectors.count_courses(school=school)
    return {
        "plan": school.plan,
        "used": used,
        "limit": limit,
        "at_limit": limit is not None and used >= limit,
    }


@manager_required
def course_list(request: HttpRequest) -> HttpResponse:
    school, user = school_of(request), user_of(request)
    courses = list(selectors.courses_for_manager(school=school, user=user))
    return render(
        request,
        "courses/manage/course_list.html",
        {
            "nav_active": "courses",
            "courses": courses,
            # Buttons of the apps above courses (importing an archive), extensions.py.
            "list_actions": [(a.label, reverse(a.url_name)) for a in course_list_actions()],
            **_plan_context(school),
        },
    )


@manager_required
def course_create(request: HttpRequest) -> HttpResponse:
    school, user = school_of(request), user_of(request)
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST":
        course = submit(
            form,
            lambda data: services.create_course(
                school=school,
                actor=user,
                title=data["title"],
                subtitle=data["subtitle"],
                description_md=data["description_md"],
            ),
        )
        if course is not None:
            messages.success(
                request,
                f"“{course.title}” is created as a draft. Add a section and your "
                "first lesson, then publish it when it is ready.",
            )
            return redirect(editor_url(course.pk))
    return render(
        request,
        "courses/manage/course_new.html",
        {"nav_active": "courses", "form": form, **_plan_context(school)},
    )


@manager_required
def course_edit(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if request.method != "POST":
        return render_editor(request, course)
    form = CourseDetailsForm(request.POST, preview_url=reverse("courses_manage:preview"))
    saved = submit(
        form,
        lambda data: services.update_course(
            school=school_of(request),
            actor=user_of(request),
            course=course,
            title=data["title"],
            subtitle=data["subtitle"],
            description_md=data["description_md"],
            slug=data["slug"],
        ),
    )
    if saved is not None:
        messages.success(request, gettext("Course details saved."))
        return redirect(editor_url(course.pk, "details"))
    # A refusing service may have changed the in-memory course: show the stored one.
    return render_editor(request, get_course(request, course.pk), details_form=form)


@manager_required
def course_cover(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if request.method != "POST":
        return redirect(editor_url(course.pk, "cover"))
    form = CoverForm(request.POST, request.FILES)
    saved = submit(
        form,
        lambda data: services.set_course_cover(
            school=school_of(request), actor=user_of(request), course=course, upload=data["cover"]
        ),
    )
    if saved is not None:
        messages.success(request, gettext("Cover image updated."))
        return redirect(editor_url(course.pk, "cover"))
    return render_editor(request, get_course(request, course.pk), cover_form=form)


@manager_required
def course_status(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    if request.method != "POST":
        return redirect(editor_url(course.pk))
    publish = request.POST.get("publish") == "1"
    try:
        services.set_course_status(
            school=school_of(request), actor=user_of(request), course=course, publish=publish
        )
    except CourseError as exc:
        messages.error(request, str(exc))
    else:
        if publish:
            messages.success(
                request,
                gettext("“%(title)s” is published: students can see it now.")
                % {"title": course.title},
            )
        else:
            messages.success(
                request,
                gettext("“%(title)s” is back to draft: students no longer see it in the catalogue.")
                % {"title": course.title},
            )
    return redirect(editor_url(course.pk))


@manager_required
def course_delete(request: HttpRequest, course_id: int) -> HttpResponse:
    school, user = school_of(request), user_of(request)
    course = get_course(request, course_id)
    if request.method == "POST":
        title = course.title
        services.delete_course(school=school, actor=user, course=course)
        messages.success(
            request, gettext("“%(title)s” and everything in it was deleted.") % {"title": title}
        )
        return redirect("courses_manage:list")
    counted = selectors.courses_for_manager(school=school, user=user).filter(pk=course.pk).first()
    lessons = getattr(counted, "lesson_count", 0)
    students = getattr(counted, "student_count", 0)
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": course,
            "heading": gettext("Delete “%(title)s”?") % {"title": course.title},
            "consequences": [
                ngettext(
                    "%(count)d lesson with its text and files",
                    "%(count)d lessons with their text and files",
                    lessons,
                )
                % {"count": lessons},
                ngettext(
                    "%(count)d student enrolment and its progress",
                    "%(count)d student enrolments and their progress",
                    students,
                )
                % {"count": students},
            ],
            "button": gettext("Delete course"),
            "cancel_url": editor_url(course.pk),
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
    notice = None
    if len(source) > MAX_PREVIEW_CHARS:
        html = safe_html(
            format_html(
                '<p class="muted">{}</p>',
                gettext("This text is too long to preview; save to see it."),
            )
        )
    else:
        html = safe_html(markdown_to_html(source))
        # Said before saving, in the same words the save uses to refuse.
        notice = external_image_problem(source)
    return render(request, "courses/_prose.html", {"html": html, "notice": notice})
