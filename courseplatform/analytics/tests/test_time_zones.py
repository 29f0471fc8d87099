"""Analytics days are the school's days: enrolments per day and week, watch time and
the date range (its bounds and "today") follow ``School.time_zone``, across zones where
the UTC date differs and across daylight-saving changes (a 25-hour day in Auckland on
2026-04-05, a 23-hour day in Los Angeles on 2026-03-08)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from courseplatform.analytics.ranges import DateRange, last_days, parse_range, today
from courseplatform.courses.models import Enrollment
from courseplatform.courses.tests.test_student_views import (
    build_course,
    client_as,
    enroll,
    new_user,
)
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import forget_school
from courseplatform.video import watchtime

pytestmark = pytest.mark.django_db

AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# Enrolment instants (UTC) and the day each falls on in Auckland / Los Angeles.
MOMENTS = [
    "2026-03-08T07:30:00",  # Auckland 03-08 20:30 NZDT | LA 03-07 23:30 PST
    "2026-03-09T06:30:00",  # Auckland 03-09 19:30      | LA 03-08 23:30 PDT (23-hour day)
    "2026-03-09T07:30:00",  # Auckland 03-09 20:30      | LA 03-09 00:30 PDT (-8 would say 03-08)
    "2026-04-04T10:30:00",  # Auckland 04-04 23:30 NZDT | LA 04-04 03:30
    "2026-04-04T11:30:00",  # Auckland 04-05 00:30 NZDT | LA 04-04 04:30 (UTC: 04-04)
    "2026-04-05T11:30:00",  # Auckland 04-05 23:30 NZST (+13 would say 04-06) | LA 04-05
    "2026-04-05T12:30:00",  # Auckland 04-06 00:30 NZST | LA 04-05 05:30
    "2026-04-06T03:00:00",  # Auckland 04-06 15:00      | LA 04-05 20:00 PDT (UTC: 04-06)
]
DAILY = {"start": "2026-03-07", "end": "2026-04-07"}
WEEKLY = {"start": "2025-12-01", "end": "2026-04-07"}  # over 92 days: weeks


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _set_zone(school: School, name: str) -> None:
    with school_context(school):
        School.objects.filter(pk=school.pk).update(time_zone=name)
    school.time_zone = name
    forget_school(school.slug)


def _seed(made: Any, zone: str) -> Any:
    school, owner = made.school, made.owner
    _set_zone(school, zone)
    built = build_course(school, owner, title=f"{school.slug.title()} Course")
    students = [new_user(school, f"s{i}@{school.slug}.test") for i in range(len(MOMENTS))]
    enroll(school, owner, built.course, *students)
    with school_context(school):
        for student, moment in zip(students, MOMENTS, strict=True):
            Enrollment.objects.filter(student=student).update(created_at=_instant(moment))
    return built


def _nonzero_rows(
    made: Any, figure: str, params: dict[str, str], column: int = -1
) -> dict[str, str]:
    """First column -> ``column`` of the figure's CSV, rows whose value is not zero."""
    response = client_as(made.owner, made.school).get(f"/manage/analytics/{figure}.csv", params)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {row[0]: row[column] for row in rows[1:] if row[column] not in ("0", "0.0")}


def test_enrolments_fall_on_the_schools_own_days(school_a: Any, school_b: Any) -> None:
    _seed(school_a, "Pacific/Auckland")
    _seed(school_b, "America/Los_Angeles")
    # Same instants, two schools: each counts only its own, on its own days.
    assert _nonzero_rows(school_a, "enrolments", DAILY) == {
        "2026-03-08": "1",
        "2026-03-09": "2",
        "2026-04-04": "1",
        "2026-04-05": "2",  # the 25-hour day: 00:30 NZDT and 23:30 NZST
        "2026-04-06": "2",
    }
    assert _nonzero_rows(school_b, "enrolments", DAILY) == {
        "2026-03-07": "1",
        "2026-03-08": "1",  # the 23-hour day
        "2026-03-09": "1",
        "2026-04-04": "2",
        "2026-04-05": "3",
    }
    # Weeks start on the school's Monday.
    assert _nonzero_rows(school_a, "enrolments", WEEKLY) == {
        "2026-03-02": "1",
        "2026-03-09": "2",
        "2026-03-30": "3",
        "2026-04-06": "2",
    }
    assert _nonzero_rows(school_b, "enrolments", WEEKLY) == {
        "2026-03-02": "2",
        "2026-03-09": "1",
        "2026-03-30": "5",
    }
    # One day's range holds exactly that day's enrolments (25 h in Auckland).
    one_day = {"start": "2026-04-05", "end": "2026-04-05"}
    auckland = client_as(school_a.owner, school_a.school).get("/manage/analytics/", one_day)
    assert auckland.context["report"].new_enrolments == 2
    assert "days in Pacific/Auckland time" in auckland.content.decode()
    la = client_as(school_b.owner, school_b.school).get("/manage/analytics/", one_day)
    assert la.context["report"].new_enrolments == 3


def test_watch_time_is_written_on_the_schools_day(school_a: Any, school_b: Any) -> None:
    moment = _instant("2026-04-04T11:30:00")  # 04-05 in Auckland, 04-04 in Los Angeles
    for made, zone in ((school_a, "Pacific/Auckland"), (school_b, "America/Los_Angeles")):
        built = _seed(made, zone)
        student = new_user(made.school, f"viewer@{made.school.slug}.test")
        with school_context(made.school):
            counted = watchtime.record(
                school=made.school,
                student_id=student.pk,
                lesson=built.lessons[0],
                watched=10,
                previous_beat=None,
                now=moment,
            )
        assert counted == 10
    april_5 = {"start": "2026-04-05", "end": "2026-04-05"}
    april_4 = {"start": "2026-04-04", "end": "2026-04-04"}
    seconds = 2  # the CSV's "Seconds watched" column, by lesson number
    assert _nonzero_rows(school_a, "watch-time", april_5, seconds) == {"1": "10"}
    assert _nonzero_rows(school_a, "watch-time", april_4, seconds) == {}
    assert _nonzero_rows(school_b, "watch-time", april_5, seconds) == {}
    assert _nonzero_rows(school_b, "watch-time", april_4, seconds) == {"1": "10"}


def test_range_bounds_are_the_zones_midnights_across_dst() -> None:
    nz_day = DateRange(date(2026, 4, 5), date(2026, 4, 5), AUCKLAND)
    assert (nz_day.since, nz_day.until) == (
        _instant("2026-04-04T11:00:00"),  # midnight NZDT (+13)
        _instant("2026-04-05T12:00:00"),  # midnight NZST (+12): 25 hours later
    )
    la_day = DateRange(date(2026, 3, 8), date(2026, 3, 8), LOS_ANGELES)
    assert (la_day.until - la_day.since).total_seconds() == 23 * 3600
    # Santiago skips midnight on 2026-09-06 (00:00 -04 becomes 01:00 -03): the day
    # starts at the first instant that exists.
    cl_day = DateRange(date(2026, 9, 6), date(2026, 9, 6), ZoneInfo("America/Santiago"))
    assert cl_day.since == _instant("2026-09-06T04:00:00")
    assert (cl_day.until - cl_day.since).total_seconds() == 23 * 3600
    assert DateRange(date(2026, 4, 5), date(2026, 4, 5)).since == _instant("2026-04-05T00:00:00")


def test_today_and_the_default_range_are_the_schools() -> None:
    now = _instant("2026-04-04T12:00:00")  # Sunday 01:00 in Auckland, Saturday 05:00 in LA
    assert today(AUCKLAND, now=now) == date(2026, 4, 5)
    assert today(LOS_ANGELES, now=now) == date(2026, 4, 4)
    assert today(now=now) == date(2026, 4, 4)  # UTC
    default = parse_range({}, zone=AUCKLAND, now=now)
    assert (default.start, default.end, default.days) == (date(2026, 3, 7), date(2026, 4, 5), 30)
    assert parse_range({}, zone=LOS_ANGELES, now=now).end == date(2026, 4, 4)
    # A start alone runs 30 days, but not past the school's today.
    start_only = parse_range({"start": "2026-04-01"}, zone=AUCKLAND, now=now)
    assert start_only.end == date(2026, 4, 5)
    assert last_days(7, zone=AUCKLAND, now=now).query() == "start=2026-03-30&end=2026-04-05"


def test_the_pickers_shortcuts_end_on_the_schools_today(school_a: Any) -> None:
    _set_zone(school_a.school, "Pacific/Kiritimati")  # UTC+14: usually a day ahead of UTC
    response = client_as(school_a.owner, school_a.school).get("/manage/analytics/")
    assert response.status_code == 200
    local_today = today(ZoneInfo("Pacific/Kiritimati"))
    assert response.context["rng"].end == local_today
    presets = dict(response.context["presets"])
    assert presets[7].endswith(f"end={local_today.isoformat()}")
