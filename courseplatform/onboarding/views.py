"""The platform site: marketing home, one-click school signup, finding a school."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from courseplatform.accounts.services import issue_login_link
from courseplatform.ops import ratelimit
from courseplatform.ops.net import client_ip
from courseplatform.tenancy import selectors
from courseplatform.tenancy.languages import visitor_language
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.slugs import normalize_slug, slug_problem

from . import services
from .forms import FindSchoolForm, SchoolSignupForm


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/home.html")


def school_signup(request: HttpRequest) -> HttpResponse:
    # The school's language starts as the visitor's own (switcher cookie, else browser).
    initial = {"language": visitor_language(request) or settings.LANGUAGE_CODE}
    form = SchoolSignupForm(request.POST or None, initial=initial)
    if request.method == "POST":
        ip = client_ip(request)
        status = ratelimit.hit("school-signup-ip", ip, settings.RATE_LIMIT_SIGNUP_IP)
        if status.limited:
            return ratelimit.too_many_requests(
                request,
                status.retry_after,
                _("Too many schools created from your network. Try again later."),
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
                    language=data["language"],
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
    problem = slug_problem(slug) if slug else _("Choose the address of your school.")
    if problem is None and not selectors.is_slug_available(slug):
        problem = _("This subdomain is already taken.")
    return render(
        request, "platform/partials/subdomain_status.html", {"slug": slug, "problem": problem}
    )


def _policy_with_any_school_host() -> dict[str, Any]:
    # "Find your school" redirects to the school's address, which may be its custom
    # domain (tenancy.selectors.school_url): Chromium applies form-action to the
    # redirects after a form post, and custom domains cannot be listed in advance. The
    # form posts to this page only; where it then leads is chosen here, never by input.
    policy: dict[str, Any] = dict(settings.SECURE_CSP)
    if policy:
        policy["form-action"] = [*policy["form-action"], f"{settings.PLATFORM_SCHEME}:"]
    return policy


@csp_override(_policy_with_any_school_host())
def find_school(request: HttpRequest) -> HttpResponse:
    form = FindSchoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        school = selectors.get_school_by_slug(form.cleaned_data["subdomain"])
        if school is not None:
            port = request.host_port  # type: ignore[attr-defined]
            return redirect(selectors.school_url(school, "/accounts/login/", port=port))
        form.add_error("subdomain", _("We could not find a school at this address."))
    return render(request, "platform/find_school.html", {"form": form})
