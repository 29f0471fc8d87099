"""What the operator console reads: every school with its usage, and weekly series.

Only inside ``platform_bypass`` (the console's views enter it): every query here spans
schools. Nothing is computed per school in Python: the list is one statement however
many schools a page shows (usage and last activity are correlated aggregates, see
``tenancy.usage.annotate_usage``), and each weekly series is one grouped statement.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Greatest, TruncWeek
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.courses.models import Attachment, Enrollment, LessonProgress
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.usage import Meter, annotate_usage
from courseplatform.video.models import VideoAsset

# The usage columns of the schools list.
LIST_METERS = (Meter.COURSES, Meter.STUDENTS, Meter.STORAGE_BYTES, Meter.VIDEO_MINUTES)
WEEKS = 12


def _latest(rows: QuerySet[Any], column: str) -> Subquery:
    return Subquery(
        rows.filter(**{f"{column}__isnull": False}).order_by(f"-{column}").values(column)[:1]
    )


def schools_overview(*, search: str = "", plan: str = "", status: str = "") -> QuerySet[School]:
    """Schools matching the filters (name or slug contains ``search``; plan code;
    status), with ``usage_<meter>`` for ``LIST_METERS`` and ``last_activity``: the
    latest audit entry, sign-in or student progress (None if there was none)."""
    schools = School.objects.select_related("plan").order_by("slug")
    search = search.strip()
    if search:
        schools = schools.filter(Q(slug__icontains=search) | Q(name__icontains=search))
    if plan:
        schools = schools.filter(plan__code=plan)
    if status:
        schools = schools.filter(status=status)
    school = OuterRef("pk")
    schools = schools.annotate(
        last_activity=Greatest(
            _latest(AuditLog.objects.filter(school=school), "created_at"),
            _latest(User.objects.filter(school=school), "last_login"),
            _latest(Enrollment.objects.filter(school=school), "last_activity_at"),
        )
    )
    return annotate_usage(schools, LIST_METERS)


def school_by_slug(slug: str) -> School:
    """Raises ``School.DoesNotExist`` for an unknown slug."""
    return School.objects.select_related("plan").get(slug=slug)


def plans() -> list[Plan]:
    return list(Plan.objects.order_by("sort_order", "code"))


@dataclass(frozen=True)
class Totals:
    schools: int
    active: int
    suspended: int
    by_plan: list[tuple[str, int]]
    storage_bytes: int
    video_minutes: float


def totals() -> Totals:
    """Platform-wide counts: two statements."""
    by_status = dict(
        School.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    by_plan = list(
        Plan.objects.order_by("sort_order", "code")
        .annotate(n=Count("schools"))
        .values_list("name", "n")
    )
    usage = annotate_usage(School.objects.order_by(), (Meter.STORAGE_BYTES, Meter.VIDEO_MINUTES))
    figures = usage.aggregate(
        storage=Sum(f"usage_{Meter.STORAGE_BYTES.value}"),
        minutes=Sum(f"usage_{Meter.VIDEO_MINUTES.value}"),
    )
    return Totals(
        schools=sum(by_status.values()),
        active=by_status.get(School.Status.ACTIVE, 0),
        suspended=by_status.get(School.Status.SUSPENDED, 0),
        by_plan=by_plan,
        storage_bytes=int(figures["storage"] or 0),
        video_minutes=float(figures["minutes"] or 0),
    )


# --- weekly series -------------------------------------------------------------------


def week_starts(weeks: int = WEEKS, *, today: datetime.date | None = None) -> list[datetime.date]:
    """The Mondays of the last ``weeks`` weeks, oldest first (this week last)."""
    today = today or timezone.now().date()
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _since(starts: list[datetime.date]) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(starts[0], datetime.time.min))


def _by_week(
    rows: QuerySet[Any], column: str, figure: Any, starts: list[datetime.date]
) -> list[float]:
    grouped = (
        rows.filter(**{f"{column}__gte": _since(starts)})
        .annotate(week=TruncWeek(column))
        .order_by()
        .values("week")
        .annotate(figure=figure)
        .values_list("week", "figure")
    )
    found = {week.date(): value for week, value in grouped}
    return [_number(found.get(start)) for start in starts]


def _number(value: Any) -> float:
    if value is None:
        return 0
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def signups_per_week(starts: list[datetime.date]) -> list[float]:
    return _by_week(School.objects.all(), "created_at", Count("pk"), starts)


def churn_per_week(starts: list[datetime.date]) -> tuple[list[float], list[float]]:
    """Schools suspended and schools reactivated each week (from the audit log)."""
    entries = AuditLog.objects.filter(school__isnull=False)
    distinct = Count("school", distinct=True)
    return (
        _by_week(entries.filter(action="school.suspended"), "created_at", distinct, starts),
        _by_week(entries.filter(action="school.unsuspended"), "created_at", distinct, starts),
    )


def active_schools_per_week(starts: list[datetime.date]) -> list[float]:
    """Schools with any activity in the week: an audit entry (someone managed it), a
    new enrolment or a student's lesson progress. One statement."""
    since = _since(starts)
    sources = [
        (AuditLog._meta.db_table, "created_at", "school_id IS NOT NULL AND "),
        (Enrollment._meta.db_table, "created_at", ""),
        (LessonProgress._meta.db_table, "updated_at", ""),
    ]
    # Table and column names come from the models above, never from input.
    union = " UNION ALL ".join(
        f"SELECT date_trunc('week', {column} AT TIME ZONE 'UTC') AS week, school_id "  # noqa: S608
        f'FROM "{table}" WHERE {extra}{column} >= %s'
        for table, column, extra in sources
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT week, COUNT(DISTINCT school_id) FROM ({union}) AS activity GROUP BY week",  # noqa: S608
            [since] * len(sources),
        )
        found = {week.date(): count for week, count in cursor.fetchall()}
    return [float(found.get(start, 0)) for start in starts]


def storage_added_per_week(starts: list[datetime.date]) -> list[float]:
    """Bytes of video (source and renditions) and attachments added each week, of the
    files still stored (deleted ones no longer count)."""
    video = _by_week(
        VideoAsset.objects.all(), "created_at", Sum(F("source_bytes") + F("output_bytes")), starts
    )
    files = _by_week(Attachment.objects.all(), "created_at", Sum("size"), starts)
    return [v + f for v, f in zip(video, files, strict=True)]


def transcode_hours_per_week(starts: list[datetime.date]) -> list[float]:
    """Wall-clock hours the transcoder spent on the videos that finished each week."""
    spent = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    seconds = _by_week(
        VideoAsset.objects.filter(started_at__isnull=False), "finished_at", Sum(spent), starts
    )
    return [round(value / 3600, 2) for value in seconds]
