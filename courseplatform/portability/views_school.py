"""The owner's pages for taking the school away: whole-school export and closure.

Thin: parse, call ``closure`` / ``school_export``, render. Every page is the owner's
only (``owner_required``: visitors go to sign in, instructors and students get 403),
and stays reachable while the school is closing (``tenancy.middleware.OPEN_WHILE_CLOSING``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from courseplatform.accounts.decorators import owner_required
from courseplatform.ops.net import client_ip

from . import closure
from .forms_school import CloseSchoolForm


@owner_required
def close_school(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    if school.is_closing:
        return render(
            request,
            "portability/school/closing.html",
            {"nav_active": "settings", "grace_days": closure.grace_days()},
        )
    form = CloseSchoolForm(request.POST if request.method == "POST" else None, slug=school.slug)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                closure.request_closure(
                    school=school,
                    actor=request.user,
                    confirm_slug=form.cleaned_data["confirm_slug"],
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
            except closure.ClosureError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{school.name} is closing.")
                return redirect("portability_close_school")
        status = 400
    return render(
        request,
        "portability/school/close.html",
        {"form": form, "nav_active": "settings", "grace_days": closure.grace_days()},
        status=status,
    )


@owner_required
@require_POST
def cancel_closure(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    try:
        closure.cancel_closure(school=school, actor=request.user, ip=client_ip(request))
    except closure.ClosureError as exc:
        messages.error(request, str(exc))
        return redirect("portability_close_school")
    messages.success(request, f"{school.name} is open again.")
    return redirect("manage_settings")
