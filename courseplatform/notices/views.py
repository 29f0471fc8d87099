"""Announcements (authoring with live progress, and the students' blocks) and the
unsubscribe page. Thin views over ``services`` and ``selectors``.

The students' blocks (``/courses/<slug>/announcements/``, ``/my/announcements/``) are
fragments the course page and My courses load with htmx, so those pages (in
``courses``, below this app) keep their pinned round trips and import nothing of ours.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses import selectors as course_selectors
from courseplatform.courses.models import Course
from courseplatform.sanitize.markdown import sanitize_html
from courseplatform.tenancy.models import School

from . import selectors, services
from .forms import AnnouncementForm
from .models import Announcement
from .unsubscribe import UnsubscribeError, read_token


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _body(announcement: Announcement) -> str:
    # Sanitised when posted; cleaned again on render, like every stored author HTML.
    return mark_safe(sanitize_html(announcement.body_html))  # noqa: S308


# --- authoring -----------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def manage_announcements(request: HttpRequest, course_id: int) -> HttpResponse:
    school, user = _school(request), _user(request)
    course = course_selectors.get_course_for_manager(school=school, user=user, course_id=course_id)
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement = services.create_announcement(
                school=school,
                actor=user,
                course=course,
                title=form.cleaned_data["title"],
                body_md=form.cleaned_data["body_md"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                gettext("“%(title)s” posted; emails are on their way.")
                % {"title": announcement.title},
            )
            return redirect("notices:manage", course_id=course.pk)
    items = [
        (announcement, selectors.delivery_progress(announcement=announcement))
        for announcement in selectors.course_announcements(school=school, course=course, limit=20)
    ]
    return render(
        request,
        "notices/manage.html",
        {"course": course, "form": form, "items": items, "nav_active": "courses"},
        status=400 if form.errors else 200,
    )


@manager_required
@require_GET
def announcement_progress(
    request: HttpRequest, course_id: int, announcement_id: int
) -> HttpResponse:
    """The progress block (htmx polls it every 2 s while emails are waiting)."""
    school, user = _school(request), _user(request)
    course = course_selectors.get_course_for_manager(school=school, user=user, course_id=course_id)
    announcement = selectors.get_announcement(
        school=school, course=course, announcement_id=announcement_id
    )
    progress = selectors.delivery_progress(announcement=announcement)
    return render(
        request,
        "notices/_progress.html",
        {
            "course": course,
            "announcement": announcement,
            "progress": progress,
            "failures": selectors.failed_deliveries(announcement=announcement)
            if progress.failed
            else [],
        },
    )


# --- the students' blocks ------------------------------------------------------------------


@require_GET
def course_block(request: HttpRequest, slug: str) -> HttpResponse:
    """The course's latest announcements for its students and managers; nothing for
    anyone else (the same empty answer whether or not the course exists)."""
    school, user = _school(request), request.user
    course = Course.objects.filter(school=school, slug=slug).first()
    if course is None or not user.is_authenticated:
        return HttpResponse("")
    allowed = permissions.can_manage_course(user, course) or course_selectors.is_enrolled(
        student=user,  # type: ignore[arg-type]
        course_id=course.pk,
    )
    if not allowed:
        return HttpResponse("")
    items = [(a, _body(a)) for a in selectors.course_announcements(school=school, course=course)]
    return render(request, "notices/_course_block.html", {"items": items, "course": course})


@require_GET
@login_required
def my_block(request: HttpRequest) -> HttpResponse:
    school, user = _school(request), _user(request)
    items = [(a, _body(a)) for a in selectors.student_announcements(school=school, student=user)]
    return render(
        request,
        "notices/_my_block.html",
        {"items": items, "unsubscribed": selectors.is_unsubscribed(school=school, user=user)},
    )


@require_POST
@login_required
def course_emails(request: HttpRequest) -> HttpResponse:
    """The signed-in student's own switch for course emails (My courses)."""
    subscribed = request.POST.get("subscribed") == "1"
    services.set_course_emails(school=_school(request), user=_user(request), subscribed=subscribed)
    messages.success(
        request,
        gettext("You will receive course emails again.")
        if subscribed
        else gettext("You will no longer receive course emails from this school."),
    )
    return redirect(reverse("courses:my_courses"))


# --- unsubscribe ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation (mail scanners follow links; only a POST changes
    anything); POST unsubscribes. Bad links get a 400 page saying why."""
    school = _school(request)
    if school is None:
        raise Http404
    try:
        read_token(school=school, token=token)
        if request.method == "POST":
            services.unsubscribe(school=school, token=token)
            return render(request, "notices/unsubscribe.html", {"done": True})
    except UnsubscribeError as exc:
        return render(request, "notices/unsubscribe.html", {"error": str(exc)}, status=400)
    return render(request, "notices/unsubscribe.html", {"token": token})
