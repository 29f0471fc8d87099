"""The operator console: staff only on the platform host, every school with its usage
in a constant number of statements, filters, suspend/unsuspend and plan changes through
the audited services (CSRF enforced), the cross-school audit log and the weekly charts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts.models import User
from courseplatform.console import selectors
from courseplatform.courses.tests.test_student_views import build_course, new_user
from courseplatform.ops.models import AuditLog
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import PLATFORM_ALIAS, platform_bypass, school_context
from tests.fixtures.queries import Statements, assert_statements

PASSWORD = "a-long-test-passphrase-42"
PLATFORM = "localhost"
# The bypass's own audit entry, the paginator's count, the page of schools (usage and
# last activity in the same statement) and the plans of the filter.
SCHOOL_LIST_STATEMENTS = 4

pytestmark = pytest.mark.django_db(transaction=True)


def _staff(client_for: Callable[..., Client], **flags: Any) -> tuple[Client, User]:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD, **flags)
    client = client_for(PLATFORM)
    client.force_login(staff)
    return client, staff


def page_statements(client: Client, path: str) -> Statements:
    """Every statement of a console request on both connections: the runtime one (the
    session's user) and the platform role's, where the console's reads run."""
    client.get(path)  # warm-up
    with (
        CaptureQueriesContext(connections["default"]) as runtime,
        CaptureQueriesContext(connections[PLATFORM_ALIAS]) as platform,
    ):
        response = client.get(path)
    assert response.status_code == 200, (response.status_code, path)
    return Statements(q["sql"] for q in [*runtime.captured_queries, *platform.captured_queries])


def _text(response: Any) -> str:
    return str(response.content.decode())


def test_console_needs_platform_staff(school_a: Any, client_for: Callable[..., Client]) -> None:
    paths = [
        "/console/",
        "/console/schools/",
        "/console/schools/alpha/",
        "/console/audit/",
        "/console/audit/export.csv",
        "/console/charts/requests.csv",
    ]
    anonymous = client_for(PLATFORM)
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # A school's account on the platform host is signed out there (accounts middleware):
    # it meets the staff login like anyone else.
    school_session = client_for(PLATFORM)
    with school_context(school_a.school):
        school_session.force_login(school_a.owner)
    for path in paths:
        response = school_session.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    assert (
        school_session.post("/console/schools/alpha/suspend/", {"reason": "x"}).status_code == 302
    )
    # On a school host there is no console, for its owner or anyone.
    owner = client_for("alpha.localhost")
    with school_context(school_a.school):
        owner.force_login(school_a.owner)
    for path in paths:
        assert owner.get(path).status_code == 404, path
    assert not AuditLog.objects.filter(action="platform.rls_bypass").exists()
    school_a.school.refresh_from_db()
    assert school_a.school.is_active


def test_signed_in_non_staff_get_403(school_a: Any) -> None:
    # Every account without a school is staff (a database constraint), and a school's
    # account is signed out on the platform host: the check stands behind both.
    from courseplatform.console import views

    request = RequestFactory().get("/console/")
    request.host_kind = "platform"  # type: ignore[attr-defined]
    request.user = school_a.owner
    with pytest.raises(PermissionDenied):
        views.overview(request)
    request.user = User(email="off@platform.test", is_staff=True, is_active=False)
    with pytest.raises(PermissionDenied):
        views.overview(request)
    assert not AuditLog.objects.filter(action="platform.rls_bypass").exists()


def test_school_list_shows_every_school_with_usage_and_filters(
    school_a: Any, make_school: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    premium = make_school("premiumone", plan="premium")
    build_course(school_a.school, school_a.owner, title="Alpha course", attachments=True)
    new_user(school_a.school, "s1@alpha.test")
    new_user(school_a.school, "s2@alpha.test")
    client, staff = _staff(client_for)
    html = _text(client.get("/console/schools/"))
    assert "Alpha Academy" in html and "Premiumone Academy" in html
    with platform_bypass(actor=None, reason="test"):
        rows: dict[str, Any] = {school.slug: school for school in selectors.schools_overview()}
    alpha = rows["alpha"]
    assert (alpha.usage_courses, alpha.usage_students) == (1.0, 2.0)
    assert alpha.usage_storage_bytes > 0 and alpha.last_activity is not None
    assert rows["premiumone"].usage_courses == 0.0

    def listed(query: dict[str, str]) -> str:
        response = client.get("/console/schools/", query)
        assert response.status_code == 200
        return _text(response).split('aria-label="Filter schools"')[1].split("</form>", 1)[1]

    assert "Premiumone" in listed({"plan": "premium"}) and "Alpha Academy" not in listed(
        {"plan": "premium"}
    )
    assert "Alpha Academy" in listed({"q": "ALPH"}) and "Premiumone" not in listed({"q": "alph"})
    assert "Alpha Academy" in listed({"q": "Academy"}) and "Premiumone" in listed({"q": "Academy"})
    assert "No school matches." in listed({"status": "suspended"})
    _ = (premium, staff)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"plan": "platinum"}, "Select a valid choice."),
        ({"status": "closed"}, "Select a valid choice."),
        ({"page": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"q": "x" * 121}, "Ensure this value has at most 120 characters"),
    ],
)
def test_bad_school_filters_are_refused(
    school_a: Any, client_for: Callable[..., Client], query: dict[str, str], message: str
) -> None:
    client, _ = _staff(client_for)
    response = client.get("/console/schools/", query)
    assert response.status_code == 400
    assert message in _text(response) and "Fix the filters" in _text(response)


def test_school_list_statements_do_not_grow_with_schools_and_data(
    make_school: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    client, _ = _staff(client_for)
    first = make_school("first")
    assert_statements(page_statements(client, "/console/schools/"), SCHOOL_LIST_STATEMENTS)
    for i in range(6):
        made = make_school(f"more{i}")
        build_course(made.school, made.owner, title=f"Course {i}", attachments=True)
        new_user(made.school, f"s{i}@more.test")
    build_course(first.school, first.owner, title="Another")
    assert_statements(page_statements(client, "/console/schools/"), SCHOOL_LIST_STATEMENTS)
    assert_statements(
        page_statements(client, "/console/schools/?plan=free&q=more"), SCHOOL_LIST_STATEMENTS
    )


def test_suspend_unsuspend_and_change_plan_are_audited_and_touch_one_school(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    client, staff = _staff(client_for)
    assert client_for("alpha.localhost").get("/").status_code == 200  # warm the host cache
    response = client.post("/console/schools/alpha/suspend/", {"reason": "Unpaid invoice"})
    assert response.status_code == 302 and response["Location"] == "/console/schools/alpha/"
    school_a.school.refresh_from_db()
    school_b.school.refresh_from_db()
    assert (school_a.school.status, school_a.school.suspended_reason) == (
        "suspended",
        "Unpaid invoice",
    )
    assert school_b.school.is_active
    assert client_for("alpha.localhost").get("/").status_code == 403
    assert "Unpaid invoice" in _text(client.get("/console/schools/alpha/"))

    assert client.post("/console/schools/alpha/unsuspend/").status_code == 302
    school_a.school.refresh_from_db()
    assert school_a.school.is_active
    assert client_for("alpha.localhost").get("/").status_code == 200

    assert client.post("/console/schools/alpha/plan/", {"plan": "premium"}).status_code == 302
    school_a.school.refresh_from_db()
    school_b.school.refresh_from_db()
    assert (school_a.school.plan.code, school_b.school.plan.code) == ("premium", "free")

    with school_context(school_a.school):
        entries = list(
            AuditLog.objects.filter(school=school_a.school, action__startswith="school.")
            .exclude(action="school.created")
            .order_by("pk")
        )
    assert [(e.action, e.actor_id) for e in entries] == [
        ("school.suspended", staff.pk),
        ("school.unsuspended", staff.pk),
        ("school.plan_changed", staff.pk),
    ]
    assert entries[2].data == {"from": "free", "to": "premium"}
    with school_context(school_b.school):
        assert not AuditLog.objects.filter(
            action__in=["school.suspended", "school.unsuspended", "school.plan_changed"]
        ).exists()
    reasons = set(
        AuditLog.objects.filter(action="platform.rls_bypass").values_list("data__reason", flat=True)
    )
    assert "operator console POST /console/schools/alpha/suspend/" in reasons


def test_bad_operator_writes_change_nothing(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client, _ = _staff(client_for)
    cases = [
        ("/console/schools/alpha/suspend/", {"reason": "   "}, 400, "This field is required."),
        ("/console/schools/alpha/suspend/", {"reason": "x" * 301}, 400, "at most 300 characters"),
        ("/console/schools/alpha/plan/", {"plan": "platinum"}, 400, "Select a valid choice."),
        ("/console/schools/alpha/plan/", {"plan": "free"}, 400, "already on this plan"),
        ("/console/schools/nosuch/suspend/", {"reason": "x"}, 404, ""),
        ("/console/schools/nosuch/plan/", {"plan": "premium"}, 404, ""),
    ]
    for path, data, status, message in cases:
        response = client.post(path, data)
        assert response.status_code == status, (path, data)
        assert message in _text(response), (path, data)
    unsuspend = client.post("/console/schools/alpha/unsuspend/")
    assert unsuspend.status_code == 302
    assert "not suspended" in _text(client.get("/console/schools/alpha/"))
    assert client.get("/console/schools/alpha/suspend/").status_code == 405
    client.post("/console/schools/alpha/suspend/", {"reason": "Abuse"})
    again = client.post("/console/schools/alpha/suspend/", {"reason": "Again"})
    assert again.status_code == 400 and "already suspended" in _text(again)
    school_a.school.refresh_from_db()
    assert (school_a.school.plan.code, school_a.school.suspended_reason) == ("free", "Abuse")
    with school_context(school_a.school):
        actions = list(
            AuditLog.objects.filter(action__startswith="school.")
            .exclude(action="school.created")
            .values_list("action", flat=True)
        )
    assert actions == ["school.suspended"]


def test_console_writes_need_the_csrf_token(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = Client(HTTP_HOST=PLATFORM, enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post("/console/schools/alpha/suspend/", {"reason": "x"}).status_code == 403
    assert client.post("/console/schools/alpha/plan/", {"plan": "premium"}).status_code == 403
    school_a.school.refresh_from_db()
    assert school_a.school.is_active and school_a.school.plan.code == "free"
    page = client.get("/console/schools/alpha/")
    token = (
        page.cookies["csrftoken"].value
        if "csrftoken" in page.cookies
        else client.cookies["csrftoken"].value
    )
    response = client.post(
        "/console/schools/alpha/suspend/", {"reason": "x", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_operator_audit_log_spans_schools_and_filters_by_school(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    for made, title in ((school_a, "Alpha thing"), (school_b, "Bravo thing")):
        with school_context(made.school):
            record_audit(
                school=made.school, actor=made.owner, action="course.created", data={"title": title}
            )
    client, _ = _staff(client_for)
    html = _text(client.get("/console/audit/"))
    assert "Alpha thing" in html and "Bravo thing" in html and "owner@bravo.test" in html
    only_b = _text(client.get("/console/audit/", {"school": "bravo"}))
    only_b = only_b.split('aria-label="Filter the audit log"')[1].split("</form>", 1)[1]
    assert "Bravo thing" in only_b and "Alpha thing" not in only_b
    rows = list(
        csv.reader(
            io.StringIO(
                _text(client.get("/console/audit/export.csv", {"school": "alpha"})).lstrip("\ufeff")
            )
        )
    )
    assert rows[0][0] == "school" and {row[0] for row in rows[1:]} == {"alpha"}
    assert any("Alpha thing" in row[-1] for row in rows[1:])
    everything = list(
        csv.reader(io.StringIO(_text(client.get("/console/audit/export.csv")).lstrip("\ufeff")))
    )
    assert {"alpha", "bravo", ""} <= {row[0] for row in everything[1:]}
    bad = client.get("/console/audit/export.csv", {"since": "nope"})
    assert bad.status_code == 400


def test_overview_totals_and_weekly_charts(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    client, _ = _staff(client_for)
    client.post("/console/schools/bravo/suspend/", {"reason": "Churned"})
    build_course(school_a.school, school_a.owner, title="Alpha course", attachments=True)
    response = client.get("/console/")
    assert response.status_code == 200
    html = _text(response)
    for chart_id in (
        "chart-signups",
        "chart-active",
        "chart-churn",
        "chart-storage",
        "chart-transcode",
        "chart-requests",
    ):
        assert f'data-chart="{chart_id}-data"' in html and f'id="{chart_id}-data"' in html
    context = response.context
    totals = context["totals"]
    assert (totals.schools, totals.active, totals.suspended) == (2, 1, 1)
    assert totals.storage_bytes > 0
    charts = {weekly.chart.id: weekly.chart.spec for weekly in context["charts"]}
    assert charts["chart-signups"]["series"][0]["data"][-1] == 2
    assert charts["chart-churn"]["series"][0]["data"][-1] == 1
    assert charts["chart-active"]["series"][0]["data"][-1] == 2
    assert len(charts["chart-signups"]["labels"]) == 12
    _ = Plan, School


# The bypass's audit entry, the page of entries (schools and actors joined) and the
# action suggestions.
AUDIT_PAGE_STATEMENTS = 3


def test_operator_audit_page_statements_do_not_grow_with_the_log(
    make_school: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    client, _ = _staff(client_for)
    made = make_school("logged")
    for query in ("", "?school=logged&action=course.created&since=2020-01-01"):
        assert_statements(page_statements(client, f"/console/audit/{query}"), AUDIT_PAGE_STATEMENTS)
    with school_context(made.school):
        for i in range(120):
            record_audit(school=made.school, actor=made.owner, action=f"course.kind{i % 9}")
    for query in ("", "?school=logged&action=course.kind3&since=2020-01-01", "?before=50"):
        assert_statements(page_statements(client, f"/console/audit/{query}"), AUDIT_PAGE_STATEMENTS)


def test_console_views_answer_404_off_the_platform_host(school_a: Any) -> None:
    # The school URLconf has no /console/ at all; the view refuses on its own too.
    from django.http import Http404

    from courseplatform.console import views

    request = RequestFactory().get("/console/")
    request.host_kind = "school"  # type: ignore[attr-defined]
    request.user = school_a.owner
    with pytest.raises(Http404):
        views.overview(request)


def test_system_entries_and_transcode_time_show_in_the_console(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    import datetime

    from django.utils import timezone

    from courseplatform.video.models import VideoAsset

    with school_context(school_a.school):
        record_audit(school=school_a.school, actor=None, action="video.reclaimed")
        now = timezone.now()
        VideoAsset.objects.create(
            school=school_a.school,
            original_filename="talk.mp4",
            status="ready",
            started_at=now - datetime.timedelta(minutes=90),
            finished_at=now,
            source_bytes=10,
        )
    client, _ = _staff(client_for)
    html = _text(client.get("/console/audit/", {"action": "video.reclaimed"}))
    assert "System" in html
    response = client.get("/console/")
    hours = {w.chart.id: w.chart.spec for w in response.context["charts"]}["chart-transcode"]
    assert hours["series"][0]["data"][-1] == 1.5
