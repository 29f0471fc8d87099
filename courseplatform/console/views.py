"""The operator console's pages (platform host, staff only; see ``decorators``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courseplatform.accounts import impersonation
from courseplatform.ops import audit_log, schools
from courseplatform.ops.csvexport import csv_response
from courseplatform.ops.net import client_ip
from courseplatform.tenancy.models import School
from courseplatform.tenancy.usage import plan_usage

from . import charts, selectors
from .decorators import staff_console
from .forms import ChangePlanForm, SchoolFilterForm, SuspendForm

SCHOOLS_PER_PAGE = 25


def _school(slug: str) -> School:
    try:
        return selectors.school_by_slug(slug)
    except School.DoesNotExist as exc:
        raise Http404("No such school.") from exc


@staff_console
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/overview.html",
        {"totals": selectors.totals(), "charts": charts.weekly_charts(), "nav_active": "overview"},
    )


@staff_console
@require_GET
def chart_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One overview chart's figures (the table under it) as CSV."""
    try:
        weekly = charts.weekly_chart(name)
    except KeyError as exc:
        raise Http404("No such chart.") from exc
    labels = weekly.chart.labels
    filename = f"platform-{name}-{labels[0]}-{labels[-1]}.csv"
    return csv_response(filename, weekly.header, weekly.rows)


@staff_console
@require_GET
def school_list(request: HttpRequest) -> HttpResponse:
    plans = selectors.plans()
    form = SchoolFilterForm(request.GET or None, plans=plans)
    page = None
    if not request.GET or form.is_valid():
        filters = form.cleaned_data if request.GET else {}
        rows = selectors.schools_overview(
            search=filters.get("q") or "",
            plan=filters.get("plan") or "",
            status=filters.get("status") or "",
        )
        paginator = Paginator(rows, SCHOOLS_PER_PAGE)
        page = paginator.get_page(filters.get("page") or 1)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/schools.html",
        {"form": form, "page": page, "filter_query": query.urlencode(), "nav_active": "schools"},
        status=200 if page is not None else 400,
    )


def _detail(request: HttpRequest, school: School, **forms: Any) -> dict[str, Any]:
    recent = audit_log.audit_page(audit_log.filtered_entries(school=school, filters={}), size=10)
    return {
        "school_obj": school,
        "usage": plan_usage(school),
        "recent": recent,
        "suspend_form": forms.get("suspend_form") or SuspendForm(),
        "plan_form": forms.get("plan_form") or ChangePlanForm(initial={"plan": school.plan}),
        "impersonation_minutes": settings.IMPERSONATION_MINUTES,
        "nav_active": "schools",
    }


@staff_console
@require_GET
def school_detail(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    return render(request, "console/school.html", _detail(request, school))


@staff_console
@require_POST
def suspend_school(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    form = SuspendForm(request.POST)
    if not school.is_active:
        form.add_error(None, _("This school is already suspended."))
    if not form.is_valid():
        return render(
            request, "console/school.html", _detail(request, school, suspend_form=form), status=400
        )
    schools.set_school_status(
        school=school,
        actor=request.user,
        status=School.Status.SUSPENDED,
        reason=form.cleaned_data["reason"],
        ip=client_ip(request),
    )
    messages.success(request, _("%(school)s is suspended.") % {"school": school.name})
    return redirect("console_school", slug=school.slug)


@staff_console
@require_POST
def unsuspend_school(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    if school.is_active:
        messages.error(request, _("This school is not suspended."))
        return redirect("console_school", slug=school.slug)
    schools.set_school_status(
        school=school, actor=request.user, status=School.Status.ACTIVE, ip=client_ip(request)
    )
    messages.success(request, _("%(school)s is active again.") % {"school": school.name})
    return redirect("console_school", slug=school.slug)


@staff_console
@require_POST
def change_plan(request: HttpRequest, slug: str) -> HttpResponse:
    school = _school(slug)
    form = ChangePlanForm(request.POST)
    if form.is_valid() and form.cleaned_data["plan"].pk == school.plan_id:
        form.add_error("plan", _("%(school)s is already on this plan.") % {"school": school.name})
    if not form.is_valid():
        return render(
            request, "console/school.html", _detail(request, school, plan_form=form), status=400
        )
    plan = form.cleaned_data["plan"]
    schools.change_plan(school=school, actor=request.user, plan=plan, ip=client_ip(request))
    messages.success(
        request, _("%(school)s is now on %(plan)s.") % {"school": school.name, "plan": plan.name}
    )
    return redirect("console_school", slug=school.slug)


@staff_console
@require_POST
def impersonate(request: HttpRequest, slug: str) -> HttpResponse:
    """Open the school's management area as its owner (a one-time link to its host)."""
    school = _school(slug)
    try:
        link = impersonation.issue_link(
            school=school,
            staff=request.user,  # type: ignore[arg-type]
            ip=client_ip(request),
            port=request.host_port,  # type: ignore[attr-defined]
        )
    except impersonation.ImpersonationError as exc:
        messages.error(request, str(exc))
        return redirect("console_school", slug=school.slug)
    return redirect(link)


@staff_console
@require_GET
def audit_log_page(request: HttpRequest) -> HttpResponse:
    form = audit_log.AuditFilterForm(request.GET or None, with_school=True)
    page = None
    if not request.GET or form.is_valid():
        filters = form.cleaned_data if request.GET else {}
        entries = audit_log.filtered_entries(school=None, filters=filters)
        page = audit_log.audit_page(
            entries, before=filters.get("before"), after=filters.get("after")
        )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(
        request,
        "console/audit_log.html",
        {
            "form": form,
            "page": page,
            "actions": audit_log.audit_actions(school=None),
            "filter_query": query.urlencode(),
            "nav_active": "audit",
        },
        status=200 if page is not None else 400,
    )


@staff_console
@require_GET
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    form = audit_log.AuditFilterForm(request.GET, with_school=True)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in form.errors.items()
        )
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain")
    entries = audit_log.filtered_entries(school=None, filters=form.cleaned_data)
    return csv_response(
        "audit-log-platform.csv",
        ("school", *audit_log.CSV_HEADER),
        audit_log.csv_rows(entries, with_school=True),
    )
