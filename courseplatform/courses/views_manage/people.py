"""The people of a course in the management area: who teaches it (the owner assigns
instructors) and its students (list, add by email, remove, CSV export)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.accounts.models import User
from courseplatform.accounts.selectors import get_school_user
from courseplatform.ops.text import SingleLineField

from .. import lesson_kinds, selectors, services
from ..models import Course
from ..services import CourseError
from .common import editor_url, get_course, school_of, submit, user_of

CSV_COLUMNS = (
    "name",
    "email",
    "enrolled_at",
    "last_activity",
    "progress_percent",
    "completed_lessons",
    "total_lessons",
    "source",
)
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class AddStudentForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "placeholder": "student@example.com"}
        ),
    )
    full_name = SingleLineField(
        label=_("Name"),
        max_length=120,
        required=False,
        help_text=_("Used only when we create a new account."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _render_roster(
    request: HttpRequest, course: Course, form: AddStudentForm, *, status: int = 200
) -> HttpResponse:
    rows = selectors.roster(school=school_of(request), course=course)
    links = lesson_kinds.roster_links(course)
    for row in rows:
        row.links = [(label, url(row.enrollment.student_id)) for label, url in links]
    return render(
        request,
        "courses/manage/roster.html",
        {"course": course, "rows": rows, "form": form, "nav_active": "courses"},
        status=status,
    )


# --- instructors ---------------------------------------------------------------------------


@manager_required
def course_instructor(request: HttpRequest, course_id: int) -> HttpResponse:
    """Owner adds (``action=add``) or removes (``action=remove``) a course instructor."""
    course = get_course(request, course_id)
    if request.method != "POST":
        return redirect(editor_url(course.pk, "instructors"))
    school = school_of(request)
    try:
        person = get_school_user(school=school, user_id=int(request.POST.get("user", "")))
    except (ValueError, User.DoesNotExist) as exc:
        raise Http404("No such person.") from exc
    teaching = request.POST.get("action") == "add"
    try:
        services.set_course_instructor(
            school=school, actor=user_of(request), course=course, user=person, teaching=teaching
        )
    except CourseError as exc:
        messages.error(request, str(exc))
    else:
        name = person.full_name or person.email
        done = (
            gettext("%(name)s now teaches this course.")
            if teaching
            else gettext("%(name)s no longer teaches this course.")
        )
        messages.success(request, done % {"name": name})
    return redirect(editor_url(course.pk, "instructors"))


# --- students ------------------------------------------------------------------------------


@require_GET
@manager_required
def roster(request: HttpRequest, course_id: int) -> HttpResponse:
    return _render_roster(request, get_course(request, course_id), AddStudentForm())


@require_POST
@manager_required
def roster_add(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    form = AddStudentForm(request.POST)
    added = submit(
        form,
        lambda data: services.enroll_by_email(
            school=school_of(request),
            actor=user_of(request),
            course=course,
            email=data["email"],
            full_name=data["full_name"],
            port=request.host_port,  # type: ignore[attr-defined]
        ),
    )
    if added is not None:
        enrollment, invited = added
        student: User = enrollment.student
        if invited:
            messages.success(
                request,
                gettext(
                    "%(email)s is enrolled. We created an account and emailed an "
                    "invitation to choose a password."
                )
                % {"email": student.email},
            )
        else:
            messages.success(
                request,
                gettext(
                    "%(name)s (%(email)s) is enrolled. "
                    "No invitation was sent: they already have an account and can log in."
                )
                % {"name": student.full_name or student.email, "email": student.email},
            )
        return redirect("courses:roster", course_id=course.pk)
    return _render_roster(request, course, form, status=400)


@require_http_methods(["GET", "POST"])
@manager_required
def roster_remove(request: HttpRequest, course_id: int, enrollment_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST removes."""
    course = get_course(request, course_id)
    enrollment = selectors.get_enrollment_for_manager(
        school=school_of(request),
        user=user_of(request),
        enrollment_id=enrollment_id,
    )
    if enrollment.course_id != course.pk:
        raise Http404("No such enrolment.")
    if request.method == "POST":
        name = enrollment.student.full_name or enrollment.student.email
        services.remove_enrollment(
            school=school_of(request),
            actor=user_of(request),
            enrollment=enrollment,
        )
        messages.success(
            request,
            gettext("%(name)s was removed from “%(title)s”.")
            % {"name": name, "title": course.title},
        )
        return redirect("courses:roster", course_id=course.pk)
    return render(
        request,
        "courses/manage/roster_remove.html",
        {"course": course, "enrollment": enrollment, "nav_active": "courses"},
    )


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas: text starting with = + - @ TAB or CR gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


@require_GET
@manager_required
def roster_csv(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course(request, course_id)
    rows = selectors.roster(school=school_of(request), course=course)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # BOM: Excel then reads the file as UTF-8
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        enrollment = row.enrollment
        student = enrollment.student
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    student.full_name,
                    student.email,
                    _when(enrollment.created_at),
                    _when(enrollment.last_activity_at),
                    row.percent,
                    row.completed,
                    row.total,
                    enrollment.source,
                )
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-students.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
