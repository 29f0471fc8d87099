"""Platform site (marketing, one-click school signup) and the school dashboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.services import issue_login_link
from courseplatform.ops import ratelimit
from courseplatform.ops.net import client_ip
from courseplatform.ops.services import record_audit

from . import selectors, services
from .forms import FindSchoolForm, SchoolSettingsForm, SchoolSignupForm
from .rls import school_context
from .slugs import normalize_slug, slug_problem


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/home.html")


def school_signup(request: HttpRequest) -> HttpResponse:
    form = SchoolSignupForm(request.POST or None)
    if request.method == "POST":
        ip = client_ip(request)
        status = ratelimit.hit("school-signup-ip", ip, settings.RATE_LIMIT_SIGNUP_IP)
        if status.limited:
            return ratelimit.too_many_requests(
                request,
                status.retry_after,
                "Too many schools created from your network. Try again later.",
            )
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.create_school(
                    slug=data["subdomain"],
                    name=data["school_name"],
                    owner_email=data["email"],
                    owner_password=data["password"],
                    owner_name=data["full_name"],
                    ip=ip,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    target = {"slug": "subdomain", "name": "school_name"}.get(field, field)
                    form.add_error(target if target in form.fields else None, errors)
            else:
                port = request.host_port  # type: ignore[attr-defined]
                with school_context(created.school), transaction.atomic():
                    link = issue_login_link(school=created.school, user=created.owner, port=port)
                return redirect(link)
    return render(request, "platform/signup.html", {"form": form})


@require_GET
def check_subdomain(request: HttpRequest) -> HttpResponse:
    """htmx fragment: is the typed subdomain usable?"""
    slug = normalize_slug(request.GET.get("subdomain", ""))
    problem = slug_problem(slug) if slug else "Choose the address of your school."
    if problem is None and not selectors.is_slug_available(slug):
        problem = "This subdomain is already taken."
    return render(
        request, "platform/partials/subdomain_status.html", {"slug": slug, "problem": problem}
    )


def find_school(request: HttpRequest) -> HttpResponse:
    form = FindSchoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        school = selectors.get_school_by_slug(form.cleaned_data["subdomain"])
        if school is not None:
            port = request.host_port  # type: ignore[attr-defined]
            return redirect(selectors.school_url(school, "/accounts/login/", port=port))
        form.add_error("subdomain", "We could not find a school at this address.")
    return render(request, "platform/find_school.html", {"form": form})


# --- school management ---------------------------------------------------------------


@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    usage = selectors.school_usage(school)
    return render(
        request,
        "tenancy/manage/dashboard.html",
        {
            "usage": usage,
            "site_url": selectors.school_url(school, "/", port=request.host_port),  # type: ignore[attr-defined]
            "nav_active": "dashboard",
        },
    )


@manager_required
def school_settings(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    is_owner = request.user.role == "owner"  # type: ignore[union-attr]
    form = SchoolSettingsForm(request.POST or None, instance=school)
    if request.method == "POST":
        if not is_owner:
            messages.error(request, "Only the school owner can change settings.")
            return redirect("manage_settings")
        if form.is_valid():
            with transaction.atomic():
                form.save()
                record_audit(
                    school=school,
                    actor=request.user,
                    action="school.settings_changed",
                    target=school,
                    data={"name": school.name},
                    ip=client_ip(request),
                )
            messages.success(request, "Settings saved.")
            return redirect("manage_settings")
    return render(
        request,
        "tenancy/manage/settings.html",
        {
            "form": form,
            "is_owner": is_owner,
            "nav_active": "settings",
            "usage": selectors.school_usage(school),
        },
    )
