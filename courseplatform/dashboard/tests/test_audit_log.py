"""The owner's audit viewer: their school's entries only (also through every filter and
the CSV), owners only, keyset pages, formula-safe CSV, bad filters refused, and a
constant number of statements at two sizes of log."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from courseplatform.ops.audit_log import HIDDEN_ACTOR, PAGE_SIZE
from courseplatform.ops.models import AuditLog
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.rls import platform_bypass, school_context
from tests.fixtures.queries import assert_statements, page_statements

pytestmark = pytest.mark.django_db

# The page of entries (actors joined) and the action suggestions; the user and the
# school come from their caches.
AUDIT_PAGE_STATEMENTS = 2


def _client(client_for: Callable[..., Client], school: Any, user: Any) -> Client:
    client = client_for(f"{school.slug}.localhost")
    with school_context(school):
        client.force_login(user)
    return client


def _log(school: Any, actor: Any, action: str, **data: Any) -> AuditLog:
    with school_context(school):
        return record_audit(school=school, actor=actor, action=action, data=data, ip="10.0.0.1")


def _results(response: Any) -> str:
    """The page after the filter form (which echoes what was typed)."""
    html: str = response.content.decode()
    return html.split('aria-label="Filter the audit log"')[1].split("</form>", 1)[1]


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_owner_sees_only_their_schools_entries_through_filters_and_csv(
    school_a: Any, school_b: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    helper = make_user(school_a.school, "helper@alpha.test", role="instructor")
    _log(school_a.school, school_a.owner, "course.created", title="Alpha course")
    _log(school_a.school, helper, "code.batch_created", name="Spring")
    _log(school_b.school, school_b.owner, "course.created", title="Bravo secret")
    _log(school_b.school, school_b.owner, "bravo.only_action", note="bravo")
    client = _client(client_for, school_a.school, school_a.owner)

    page = client.get("/manage/audit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Alpha course" in html and "helper@alpha.test" in html
    assert "Bravo secret" not in html and "owner@bravo.test" not in html
    assert "bravo.only_action" not in html  # not even as a suggestion
    assert 'aria-current="page"' in html and 'data-nav="audit"' in html

    # Filters that would match school B's entries match nothing of theirs.
    for query in (
        {"actor": "owner@bravo.test"},
        {"actor": "bravo"},
        {"action": "bravo.only_action"},
        {"action": "course.created", "actor": "owner"},
    ):
        # (after the filter form, which echoes what was typed)
        html = _results(client.get("/manage/audit/", query))
        assert "Bravo secret" not in html and "owner@bravo.test" not in html, query
        rows = _csv(client.get("/manage/audit/export.csv", query))
        assert all("bravo" not in cell.lower() for row in rows for cell in row), (query, rows)

    by_actor = client.get("/manage/audit/", {"actor": "helper"}).content.decode()
    assert "Spring" in by_actor and "Alpha course" not in by_actor
    by_action = client.get("/manage/audit/", {"action": "course.created"}).content.decode()
    assert "Alpha course" in by_action and "Spring" not in by_action

    rows = _csv(client.get("/manage/audit/export.csv"))
    assert rows[0] == ["time (UTC)", "actor", "action", "target type", "target id", "ip", "details"]
    actions = [row[2] for row in rows[1:]]
    assert "course.created" in actions and "code.batch_created" in actions
    assert "bravo.only_action" not in actions
    assert all("Bravo" not in row[6] for row in rows[1:])


def test_date_range_filter_keeps_whole_days(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    _log(school_a.school, school_a.owner, "course.created", title="Old one")
    _log(school_a.school, school_a.owner, "course.created", title="New one")
    client = _client(client_for, school_a.school, school_a.owner)
    today = timezone.now().date()
    html = client.get("/manage/audit/", {"since": str(today), "until": str(today)}).content.decode()
    assert "Old one" in html and "New one" in html
    tomorrow = today + datetime.timedelta(days=1)
    html = client.get("/manage/audit/", {"since": str(tomorrow)}).content.decode()
    assert "Old one" not in html and "No entries match." in html
    yesterday = today - datetime.timedelta(days=1)
    html = client.get("/manage/audit/", {"until": str(yesterday)}).content.decode()
    assert "New one" not in html and "No entries match." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-02-30"}, "Enter a valid date."),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "The end date is before the start date."),
        ({"before": "-4"}, "Ensure this value is greater than or equal to 1."),
        ({"before": "abc"}, "Enter a whole number."),
        ({"before": "9", "after": "3"}, "Give either an older or a newer page, not both."),
        ({"actor": "x" * 300}, "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_error(
    school_a: Any, client_for: Callable[..., Client], query: dict[str, str], message: str
) -> None:
    _log(school_a.school, school_a.owner, "course.created", title="Alpha course")
    client = _client(client_for, school_a.school, school_a.owner)
    page = client.get("/manage/audit/", query)
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and "Alpha course" not in html
    export = client.get("/manage/audit/export.csv", query)
    assert export.status_code == 400 and message in export.content.decode()


def test_instructors_and_students_get_403_and_visitors_log_in(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    for role in ("instructor", "student"):
        person = make_user(school_a.school, f"{role}@alpha.test", role=role)
        client = _client(client_for, school_a.school, person)
        assert client.get("/manage/audit/").status_code == 403
        assert client.get("/manage/audit/export.csv").status_code == 403
    teacher = _client(
        client_for, school_a.school, make_user(school_a.school, "t2@alpha.test", role="instructor")
    )
    assert 'data-nav="audit"' not in teacher.get("/manage/").content.decode()
    anonymous = client_for("alpha.localhost").get("/manage/audit/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_keyset_pages_walk_older_and_newer(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    for i in range(PAGE_SIZE + 5):
        _log(school_a.school, school_a.owner, "lesson.updated", n=f"entry-{i:03d}")
    client = _client(client_for, school_a.school, school_a.owner)
    first = client.get("/manage/audit/", {"action": "lesson.updated"}).content.decode()
    assert "entry-054" in first and "entry-005" in first and "entry-004" not in first
    assert "Newer" not in first and "Older" in first
    with school_context(school_a.school):
        ids = list(
            AuditLog.objects.filter(action="lesson.updated")
            .order_by("-pk")
            .values_list("pk", flat=True)
        )
    older = client.get(
        "/manage/audit/", {"action": "lesson.updated", "before": str(ids[PAGE_SIZE - 1])}
    )
    html = older.content.decode()
    assert "entry-004" in html and "entry-000" in html and "entry-005" not in html
    assert "Newer" in html and "Older →" not in html
    assert f"after={ids[PAGE_SIZE]}" in html and "action=lesson.updated" in html
    newer = client.get("/manage/audit/", {"action": "lesson.updated", "after": str(ids[PAGE_SIZE])})
    html = newer.content.decode()
    assert "entry-054" in html and "entry-005" in html and "entry-004" not in html


def test_csv_cells_cannot_run_as_formulas(school_a: Any, client_for: Callable[..., Client]) -> None:
    _log(school_a.school, school_a.owner, '=HYPERLINK("http://evil")', name="@SUM(1)")
    _log(school_a.school, school_a.owner, "+cmd", name="x")
    _log(school_a.school, school_a.owner, "-2+3", name="x")
    _log(school_a.school, school_a.owner, "\tlead", name="x")
    client = _client(client_for, school_a.school, school_a.owner)
    rows = _csv(client.get("/manage/audit/export.csv"))
    actions = {row[2] for row in rows[1:]}
    assert {'\'=HYPERLINK("http://evil")', "'+cmd", "'-2+3", "'\tlead"} <= actions
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_operator_entries_show_without_naming_the_staff_account(
    school_a: Any, client_for: Callable[..., Client], django_user_model: Any
) -> None:
    staff = django_user_model.objects.create_superuser("ops@platform.test", "pw-long-enough-42")
    with platform_bypass(actor=staff, reason="test"):
        with school_context(school_a.school):
            record_audit(school=school_a.school, actor=staff, action="school.plan_changed")
    client = _client(client_for, school_a.school, school_a.owner)
    html = client.get("/manage/audit/").content.decode()
    assert "school.plan_changed" in html and HIDDEN_ACTOR in html
    assert "ops@platform.test" not in html
    assert "platform.rls_bypass" not in html  # the platform's own entries stay the platform's


def test_audit_page_statements_do_not_grow_with_the_log(
    make_school: Callable[..., Any],
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    few = make_school("fewlogs")
    many = make_school("manylogs")
    _log(few.school, few.owner, "course.created")
    people = [make_user(many.school, f"p{i}@many.test", role="instructor") for i in range(5)]
    for i in range(PAGE_SIZE * 2 + 7):
        _log(many.school, people[i % 5], f"action.kind{i % 7}", n=i)
    for made in (few, many):
        client = _client(client_for, made.school, made.owner)
        for query in ("", "?actor=p1&action=action.kind3", "?since=2020-01-01"):
            assert_statements(
                page_statements(client, f"/manage/audit/{query}"), AUDIT_PAGE_STATEMENTS
            )


def test_a_page_past_the_oldest_entry_links_back_to_the_newest(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = _client(client_for, school_a.school, school_a.owner)
    html = _results(client.get("/manage/audit/", {"action": "school.created", "before": "1"}))
    assert "No entries match." in html
    assert 'href="?action=school.created"><span' in html and "after=" not in html
