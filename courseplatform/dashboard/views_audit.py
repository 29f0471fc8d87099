"""The owner's audit viewer: their school's audit log, filtered, paged and as CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from courseplatform.accounts.decorators import owner_required
from courseplatform.ops import audit_log
from courseplatform.ops.csvexport import csv_response


@owner_required
def audit_log_page(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    form = audit_log.AuditFilterForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        filters = form.cleaned_data if request.GET else {}
        entries = audit_log.filtered_entries(school=school, filters=filters)
        page = audit_log.audit_page(
            entries, before=filters.get("before"), after=filters.get("after")
        )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(
        request,
        "dashboard/audit_log.html",
        {
            "form": form,
            "page": page,
            "actions": audit_log.audit_actions(school=school),
            "filter_query": query.urlencode(),
            "nav_active": "audit",
        },
        status=200 if page is not None else 400,
    )


@owner_required
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    form = audit_log.AuditFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in form.errors.items()
        )
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain")
    entries = audit_log.filtered_entries(school=school, filters=form.cleaned_data)
    return csv_response(
        f"audit-log-{school.slug}.csv", audit_log.CSV_HEADER, audit_log.csv_rows(entries)
    )
