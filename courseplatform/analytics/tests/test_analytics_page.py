"""/manage/analytics/: the figures on a known dataset, who sees what, two schools, CSVs,
bad filters, and a constant number of queries at two data sizes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from courseplatform.analytics.models import CourseStat, LessonStat
from courseplatform.analytics.ranges import today
from courseplatform.analytics.report import FIGURES
from courseplatform.analytics.rollups import refresh_school
from courseplatform.analytics.tests.data import add_bulk, seed_known
from courseplatform.courses.tests.test_student_views import (
    build_course,
    client_as,
    enroll,
    new_user,
)
from courseplatform.tenancy.rls import school_context
from tests.fixtures.queries import page_statements

pytestmark = pytest.mark.django_db

PAGE = "/manage/analytics/"


@pytest.fixture
def known(school_a: Any) -> SimpleNamespace:
    data = seed_known(school_a.school, school_a.owner)
    with school_context(school_a.school):
        refresh_school(school=school_a.school)
    return data


@pytest.fixture
def bravo(school_b: Any) -> SimpleNamespace:
    """School B with look-alike data whose names must never show up in A."""
    data = seed_known(school_b.school, school_b.owner, prefix="Bravo Secret")
    with school_context(school_b.school):
        refresh_school(school=school_b.school)
    return data


def owner_client(school: Any) -> Client:
    return client_as(school.owner, school.school)


def rows_of(response: Any) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_owner_sees_the_known_figures(school_a: Any, known: SimpleNamespace) -> None:
    response = owner_client(school_a).get(PAGE, {"course": known.alpha.course.pk})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.new_enrolments == 4
    assert (report.activity.students, report.activity.active_7, report.activity.active_30) == (
        5,
        2,
        3,
    )
    assert report.tables["completion"].rows == [
        ["Alpha Course", 4, 4, 1, 25.0],
        ["Beta Course", 2, 1, 1, 100.0],
    ]
    funnel = report.tables["funnel"].rows
    assert [row[2:] for row in funnel] == [
        [3, 2, 50.0, 2],
        [2, 2, 50.0, 0],
        [1, 1, 25.0, 1],
        [1, 1, 25.0, 0],
    ]
    assert [row[2] for row in report.tables["watch-time"].rows] == [600, 120, 0, 0]
    assert report.tables["redemptions"].rows == [
        ["Beta batch", 2, 2, 0, 0.0, 0],
        ["Spring promo", 4, 4, 1, 25.0, 1],
    ]
    activity = {row[0]: row[1:] for row in report.tables["activity"].rows}
    assert activity == {"Alpha Course": [4, 1, 2], "Beta Course": [1, 1, 1]}
    assert report.as_of is not None
    html = response.content.decode()
    # Every chart is a canvas naming its JSON block, and the bundle is loaded once.
    for chart in report.charts.values():
        assert f'data-chart="{chart.data_id}"' in html
        assert f'<script id="{chart.data_id}" type="application/json">' in html
    assert html.count("dist/charts.js") == 1
    assert 'data-total="new-enrolments">4<' in html


def test_enrolments_per_day_and_per_week(school_a: Any, known: SimpleNamespace) -> None:
    client = owner_client(school_a)
    end = today()
    daily = client.get(
        PAGE, {"start": (end - timedelta(days=2)).isoformat(), "end": end.isoformat()}
    )
    assert daily.context["report"].tables["enrolments"].rows == [
        [(end - timedelta(days=2)).isoformat(), 2],
        [(end - timedelta(days=1)).isoformat(), 1],
        [end.isoformat(), 1],
    ]
    weekly = client.get(
        PAGE, {"start": (end - timedelta(days=199)).isoformat(), "end": end.isoformat()}
    )
    table = weekly.context["report"].tables["enrolments"]
    assert table.header[0] == "Week starting"
    assert sum(row[1] for row in table.rows) == 5  # s3 forty days ago included
    assert all(row[0] <= end.isoformat() for row in table.rows)


def test_instructor_sees_only_the_courses_they_teach(school_a: Any, known: SimpleNamespace) -> None:
    client = client_as(known.ina, school_a.school)
    response = client.get(PAGE)
    assert response.status_code == 200
    report = response.context["report"]
    assert list(report.scope.courses.values()) == ["Beta Course"]
    assert report.course_id == known.beta.course.pk
    assert (report.activity.students, report.new_enrolments) == (1, 1)
    assert [row[0] for row in report.tables["completion"].rows] == ["Beta Course"]
    assert [row[0] for row in report.tables["redemptions"].rows] == ["Beta batch"]
    html = response.content.decode()
    assert "Alpha Course" not in html and "Spring promo" not in html
    # The owner's course is not theirs: refused like a course that does not exist.
    theirs = client.get(PAGE, {"course": known.alpha.course.pk})
    missing = client.get(PAGE, {"course": 987654321})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.context["error"] == missing.context["error"]
    csv_rows = rows_of(client.get(f"{PAGE}completion.csv"))
    assert [row[0] for row in csv_rows[1:]] == ["Beta Course"]
    refused = client.get(f"{PAGE}funnel.csv", {"course": known.alpha.course.pk})
    assert refused.status_code == 400


def test_students_and_visitors_cannot_open_analytics(school_a: Any, known: SimpleNamespace) -> None:
    student = client_as(known.students[0], school_a.school)
    assert student.get(PAGE).status_code == 403
    assert student.get(f"{PAGE}enrolments.csv").status_code == 403
    anonymous = Client(HTTP_HOST=f"{school_a.school.slug}.localhost")
    assert anonymous.get(PAGE).status_code == 302
    assert anonymous.get(f"{PAGE}enrolments.csv").status_code == 302


def test_school_b_never_appears_in_a_page_csv_or_filter(
    school_a: Any, school_b: Any, known: SimpleNamespace, bravo: SimpleNamespace
) -> None:
    client = owner_client(school_a)
    response = client.get(PAGE)
    html = response.content.decode()
    assert "Bravo" not in html
    report = response.context["report"]
    assert report.activity.students == 5 and report.new_enrolments == 4
    for figure in FIGURES:
        body = client.get(f"{PAGE}{figure}.csv", {"course": known.alpha.course.pk})
        assert body.status_code == 200, figure
        assert "Bravo" not in body.content.decode("utf-8-sig"), figure
    # B's course id through the filter: the same refusal as an id that never existed.
    other = client.get(PAGE, {"course": bravo.alpha.course.pk})
    missing = client.get(PAGE, {"course": 987654321})
    assert other.status_code == missing.status_code == 400
    assert other.context["error"] == missing.context["error"]
    assert "Bravo" not in other.content.decode()
    assert client.get(f"{PAGE}funnel.csv", {"course": bravo.alpha.course.pk}).status_code == 400
    # A's owner on B's host is not B's manager.
    assert client_as(school_a.owner, school_a.school, host="bravo.localhost").get(
        PAGE
    ).status_code in (302, 403)
    # The rollup rows are B's own under row-level security too.
    with school_context(school_a.school):
        assert not CourseStat.objects.filter(course_id=bravo.alpha.course.pk).exists()
        assert not LessonStat.objects.filter(course_id=bravo.alpha.course.pk).exists()
        assert CourseStat.objects.count() == 2


def test_csv_downloads_are_the_chart_tables_and_formula_safe(
    school_a: Any, known: SimpleNamespace
) -> None:
    with school_context(school_a.school):
        from courseplatform.access.models import AccessCodeBatch

        AccessCodeBatch.objects.filter(name="Spring promo").update(name="=HYPERLINK(1)")
    client = owner_client(school_a)
    response = client.get(f"{PAGE}redemptions.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="alpha-redemptions-' in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == [
        "Batch",
        "Codes",
        "Uses issued",
        "Uses redeemed",
        "Redemption %",
        "Redeemed in range",
    ]
    assert ["'=HYPERLINK(1)", "4", "4", "1", "25.0", "1"] in rows
    funnel = rows_of(client.get(f"{PAGE}funnel.csv", {"course": known.alpha.course.pk}))
    assert funnel[1] == ["1", "Alpha Course 1.1", "3", "2", "50.0", "2"]
    assert client.get(f"{PAGE}nonsense.csv").status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01", "end": "2026-12-01"}, "is not a date"),
        ({"start": "yesterday"}, "is not a date"),
        ({"end": "2026-02-30"}, "is not a date"),
        ({"start": "2026-12-05", "end": "2026-11-01"}, "is after the end date"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "choose at most 366 days"),
        ({"start": "1900-01-01", "end": "1900-02-01"}, "on or after 2000-01-01"),
        ({"course": "abc"}, "Choose one of your courses"),
    ],
)
def test_bad_filters_get_a_clear_error_and_no_figures(
    school_a: Any, known: SimpleNamespace, params: dict[str, str], message: str
) -> None:
    client = owner_client(school_a)
    response = client.get(PAGE, params)
    assert response.status_code == 400
    assert message in response.context["error"]
    html = response.content.decode()
    assert "data-analytics-error" in html and "data-chart=" not in html
    text = client.get(f"{PAGE}enrolments.csv", params)
    assert text.status_code == 400 and message in text.content.decode()


def test_refresh_button_queues_one_refresh(
    school_a: Any, known: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    client = owner_client(school_a)
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(f"{PAGE}refresh/?start=2026-11-01&end=2026-11-30")
        second = client.post(f"{PAGE}refresh/?start=bad")
    assert first.status_code == second.status_code == 302
    assert (
        first["Location"]
        == f"{PAGE}?start=2026-11-01&end=2026-11-30&course={known.alpha.course.pk}"
    )
    assert second["Location"] == PAGE
    assert len(callbacks) == 1  # the second press found one pending
    assert client.get(PAGE).status_code == 200
    assert client.get(f"{PAGE}refresh/").status_code == 405


def test_first_visit_computes_the_rollups(
    school_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from courseplatform.analytics.tasks import refresh_school_analytics

    built = build_course(school_a.school, school_a.owner, title="Fresh")
    student = new_user(school_a.school, "fresh@alpha.test")
    enroll(school_a.school, school_a.owner, built.course, student)
    client = owner_client(school_a)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get(PAGE)
    assert "being computed" in response.content.decode()
    assert response.context["report"].as_of is None
    assert len(callbacks) == 1
    # What the worker then runs:
    outcome = refresh_school_analytics.call(school_a.school.pk)
    assert outcome.startswith("1 courses")
    after = client.get(PAGE)
    assert after.context["report"].as_of is not None
    assert after.context["report"].tables["completion"].rows == [["Fresh", 4, 1, 0, 0.0]]
    assert refresh_school_analytics.call(987654321) == "gone"


def test_empty_school_shows_empty_states(school_a: Any) -> None:
    response = owner_client(school_a).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No courses yet" in html
    assert 'data-chart-empty="chart-completion"' in html


def test_page_queries_do_not_grow_with_the_data(school_a: Any, known: SimpleNamespace) -> None:
    client = owner_client(school_a)
    small = page_statements(client, PAGE)
    small_csv = page_statements(client, f"{PAGE}funnel.csv")
    add_bulk(school_a.school, school_a.owner, courses=3, students=12, tag="Bulk")
    with school_context(school_a.school):
        refresh_school(school=school_a.school)
    large = page_statements(client, PAGE)
    large_csv = page_statements(client, f"{PAGE}funnel.csv")
    assert len(large) == len(small), (small, large)
    assert len(large_csv) == len(small_csv), (small_csv, large_csv)
    report = client.get(PAGE).context["report"]
    assert len(report.scope.courses) == 5
    assert report.activity.students == 17
