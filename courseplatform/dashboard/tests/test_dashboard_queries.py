"""The dashboard's round trips, pinned at two data sizes, and the one-statement plan usage
agreeing with the per-provider figures that the plan limits use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.courses.selectors import count_courses_query
from courseplatform.courses.tests.test_student_views import build_course, new_user
from courseplatform.dashboard.tests.test_dashboard import MiB, _client, _course_with_attachment
from courseplatform.tenancy import usage
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.usage import Meter, measure, plan_usage
from courseplatform.video import services as videos
from courseplatform.video.models import VideoAsset
from tests.fixtures.queries import assert_statements, page_statements

pytestmark = pytest.mark.django_db

# Every plan meter in one statement (the user and the theme come from the cache, the
# school setting rides along).
DASHBOARD_STATEMENTS = 1


def _video(school: Any, owner: Any, **fields: Any) -> None:
    with school_context(school):
        asset = videos.create_asset(school=school, actor=owner, filename="talk.mp4", size=7 * MiB)
        VideoAsset.objects.filter(pk=asset.pk).update(**fields)


def test_dashboard_statements_do_not_grow_with_courses_and_students(
    make_school: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    few = make_school("fewthings", plan="premium")
    many = make_school("manythings", plan="premium")
    build_course(few.school, few.owner, title="Only")
    new_user(few.school, "s@few.test")
    for i in range(6):
        build_course(many.school, many.owner, title=f"Course {i}", attachments=True)
    for i in range(12):
        new_user(many.school, f"s{i}@many.test")
    _video(many.school, many.owner, status="ready", source_bytes=MiB, duration_seconds=90)
    for made in (few, many):
        client = _client(client_for, made.school, made.owner)
        statements = page_statements(client, "/manage/")
        assert_statements(statements, DASHBOARD_STATEMENTS)


def test_plan_usage_reads_every_meter_in_one_statement_with_the_limit_figures(
    school_a: Any, school_b: Any, make_user: Callable[..., Any]
) -> None:
    school, owner = school_a.school, school_a.owner
    _course_with_attachment(school, owner, size=1234)
    make_user(school, "s1@alpha.test")
    make_user(school, "teacher@alpha.test", role="instructor")
    _video(
        school, owner, status="ready", source_bytes=3 * MiB, output_bytes=MiB, duration_seconds=150
    )
    _video(school, owner)  # still uploading: its declared size is reserved
    _video(school, owner, status="failed", duration_seconds=600)  # failed: no minutes
    _course_with_attachment(school_b.school, school_b.owner, size=99)  # another school's
    with school_context(school), CaptureQueriesContext(connection) as captured:
        rows = {row.label: row.used for row in plan_usage(school)}
    assert len(captured.captured_queries) == 1, captured.captured_queries
    with school_context(school):
        expected = {meter: measure(meter, school=school) for meter in Meter}
    assert rows == {
        "Courses": round(expected[Meter.COURSES]),
        "Students": round(expected[Meter.STUDENTS]),
        "Storage": int(expected[Meter.STORAGE_BYTES]),
        "Video minutes": round(expected[Meter.VIDEO_MINUTES]),
        "Site pages": round(expected[Meter.PAGES]),
    }
    assert (rows["Courses"], rows["Students"]) == (1, 1)
    assert rows["Storage"] == 4 * MiB + 7 * MiB + 1234  # stored, reserved and file bytes
    assert rows["Video minutes"] == round(150 / 60)


def test_measure_many_adds_providers_without_a_query_on_their_own(
    school_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = school_a.school
    build_course(school, school_a.owner, title="Counted")
    monkeypatch.setattr(usage, "_providers", {meter: {} for meter in Meter})
    monkeypatch.setattr(usage, "_queries", {meter: {} for meter in Meter})
    usage.register_usage(Meter.COURSES, "courses", lambda s, e: 99, query=count_courses_query)
    usage.register_usage(Meter.COURSES, "extra", lambda s, e: 2)
    usage.register_usage(Meter.PAGES, "pages", lambda s, e: 3)
    with school_context(school), CaptureQueriesContext(connection) as captured:
        figures = usage.measure_many((Meter.COURSES, Meter.PAGES), school=school)
    # The query (1 course), not its Python twin (99), plus the provider without a query.
    assert figures == {Meter.COURSES: 1 + 2, Meter.PAGES: 3}
    assert len(captured.captured_queries) == 1


def test_annotate_usage_refuses_meters_it_cannot_compute_in_sql(school_a: Any) -> None:
    from courseplatform.tenancy.models import School

    # Custom domains have a provider without a query; a meter without providers fails too.
    with pytest.raises(LookupError, match="no usage query"):
        usage.annotate_usage(School.objects.all(), (Meter.CUSTOM_DOMAINS,))
    saved = usage._providers[Meter.PAGES]
    usage._providers[Meter.PAGES] = {}
    try:
        with pytest.raises(LookupError, match="No app registered"):
            usage.annotate_usage(School.objects.all(), (Meter.PAGES,))
    finally:
        usage._providers[Meter.PAGES] = saved


@pytest.mark.django_db(transaction=True)
def test_annotate_usage_gives_each_school_the_plan_usage_figures(
    school_a: Any, school_b: Any, make_user: Callable[..., Any]
) -> None:
    from courseplatform.tenancy.models import School
    from courseplatform.tenancy.rls import platform_bypass

    make_user(school_a.school, "s1@alpha.test")
    _video(school_b.school, school_b.owner, status="ready", source_bytes=MiB, duration_seconds=120)
    meters = (Meter.COURSES, Meter.STUDENTS, Meter.STORAGE_BYTES, Meter.VIDEO_MINUTES)
    with platform_bypass(actor=None, reason="test: usage of every school"):
        rows = {s.slug: s for s in usage.annotate_usage(School.objects.all(), meters)}
        for made in (school_a, school_b):
            expected = usage.measure_many(meters, school=made.school)
            row: Any = rows[made.school.slug]
            assert {m: getattr(row, f"usage_{m.value}") for m in meters} == expected
    assert rows["alpha"].usage_students == 1.0  # type: ignore[attr-defined]
    assert rows["bravo"].usage_video_minutes == 2.0  # type: ignore[attr-defined]
