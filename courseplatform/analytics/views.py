"""``/manage/analytics/``: the page, one CSV per figure, and the "Refresh" button.

Owners see the whole school, instructors the courses they teach (``selectors.Scope``).
Filters travel in the query string (``start``, ``end``, ``course``): a plain GET form,
so the page works without JavaScript and each view can be bookmarked or shared. Bad
filters answer 400 with the reason and no figures; the CSV URLs do the same in text.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops.csvexport import csv_response
from courseplatform.tenancy.timezones import school_zone

from .ranges import PRESETS, DateRange, RangeError, last_days, parse_range
from .report import FIGURES, build_report
from .selectors import FilterError, Scope, scope_for
from .tasks import request_refresh


def _filters(request: HttpRequest) -> tuple[Scope, DateRange, int | None]:
    """Scope, range and course of the request; raises RangeError / FilterError."""
    scope = scope_for(school=request.school, user=request.user)  # type: ignore[attr-defined,arg-type]
    # Days are the school's days (its time zone), "today" included.
    rng = parse_range(request.GET, zone=school_zone(request.school))  # type: ignore[attr-defined]
    course_id = scope.course(request.GET.get("course"))
    return scope, rng, course_id


def _query(rng: DateRange, course_id: int | None) -> str:
    params = {"start": rng.start.isoformat(), "end": rng.end.isoformat()}
    if course_id is not None:
        params["course"] = str(course_id)
    return urlencode(params)


@require_GET
@manager_required
def analytics_page(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    zone = school_zone(school)
    context: dict[str, object] = {
        "nav_active": "analytics",
        "zone": zone,
        "is_owner": permissions.is_school_owner(request.user, school),
        "figures": FIGURES,
        "form": {k: request.GET.get(k, "")[:40] for k in ("start", "end", "course")},
    }
    try:
        scope, rng, course_id = _filters(request)
    except (RangeError, FilterError) as exc:
        context["error"] = str(exc)
        context["scope"] = scope_for(school=school, user=request.user)  # type: ignore[arg-type]
        return render(request, "analytics/analytics.html", context, status=400)
    report = build_report(scope=scope, rng=rng, course_id=course_id)
    if report.as_of is None and scope.courses:
        # First visit (or new courses since the last refresh): compute them now.
        request_refresh(school=school)
    query = _query(rng, course_id)
    context.update(
        scope=scope,
        rng=rng,
        course_id=course_id,
        report=report,
        query=query,
        presets=[(days, last_days(days, zone=zone).query()) for days in PRESETS],
        form={"start": rng.start.isoformat(), "end": rng.end.isoformat(), "course": course_id},
    )
    return render(request, "analytics/analytics.html", context)


@require_GET
@manager_required
def analytics_csv(request: HttpRequest, figure: str) -> HttpResponse:
    if figure not in FIGURES:
        raise Http404("No such figure.")
    try:
        scope, rng, course_id = _filters(request)
    except (RangeError, FilterError) as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    report = build_report(scope=scope, rng=rng, course_id=course_id)
    table = report.tables[figure]
    slug = request.school.slug  # type: ignore[attr-defined]
    filename = f"{slug}-{figure}-{rng.start.isoformat()}-{rng.end.isoformat()}.csv"
    return csv_response(filename, table.header, table.rows)


@require_POST
@manager_required
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a recomputation of the completion and funnel figures (one at a time)."""
    school = request.school  # type: ignore[attr-defined]
    if request_refresh(school=school):
        messages.success(request, _("Refreshing the figures: reload the page in a minute."))
    else:
        messages.info(request, _("A refresh is already on its way: reload the page in a minute."))
    back = "/manage/analytics/"
    try:
        _scope, rng, course_id = _filters(request)
        back += "?" + _query(rng, course_id)
    except (RangeError, FilterError):
        pass
    return redirect(back)
