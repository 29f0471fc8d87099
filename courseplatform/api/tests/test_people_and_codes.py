"""Students, enrolments, code batches and redemptions through the API."""

from __future__ import annotations

import pytest
from django.core import mail

from courseplatform.access.services import redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment
from courseplatform.ops.models import AuditLog

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def _course_with_lessons(api, title="Course", lessons=2) -> int:
    cid = api.post("/courses", {"title": title}).json()["id"]
    sid = api.post(f"/courses/{cid}/sections", {"title": "S"}).json()["id"]
    for n in range(lessons):
        api.post(f"/courses/{cid}/sections/{sid}/lessons", {"title": f"L{n}"})
    return cid


def test_invite_list_get_and_remove_a_student(alpha, api_for, in_school):
    api = api_for(alpha)
    created = api.post("/students", {"email": "Ana@Example.com", "full_name": "Ana"})
    assert created.status_code == 201, created.content
    student = created.json()
    assert student["email"] == "ana@example.com" and not student["email_verified"]
    assert mail.outbox[-1].to == ["ana@example.com"]
    assert [s["id"] for s in api.get("/students").json()["data"]] == [student["id"]]
    assert api.get(f"/students/{student['id']}").json()["full_name"] == "Ana"
    assert api.delete(f"/students/{student['id']}").status_code == 204
    is_problem(api.get(f"/students/{student['id']}"), 404)
    with in_school(alpha):
        assert AuditLog.objects.filter(school=alpha, action="account.removed").exists()


def test_duplicate_invite_is_a_conflict_and_sends_nothing(alpha, api_for, in_school):
    api = api_for(alpha)
    api.post("/students", {"email": "ana@example.com"})
    sent = len(mail.outbox)
    body = is_problem(api.post("/students", {"email": "ANA@example.com"}), 409)
    assert body["type"].endswith(":duplicate")
    assert len(mail.outbox) == sent
    with in_school(alpha):
        assert User.objects.filter(school=alpha, email="ana@example.com").count() == 1


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "x" * 250 + "@e.com"])
def test_invalid_invite_address_is_refused(alpha, api_for, in_school, email):
    is_problem(api_for(alpha).post("/students", {"email": email}), 422)
    with in_school(alpha):
        assert not User.objects.filter(school=alpha, role="student").exists()


def test_staff_accounts_are_not_students(alpha, api_for, in_school):
    with in_school(alpha):
        owner = User.objects.get(school=alpha, role="owner")
    is_problem(api_for(alpha).get(f"/students/{owner.pk}"), 404)
    is_problem(api_for(alpha).delete(f"/students/{owner.pk}"), 404)


def test_enrolments_with_progress(alpha, api_for, in_school):
    from courseplatform.courses.models import Lesson
    from courseplatform.courses.services import set_lesson_completed

    api = api_for(alpha)
    cid = _course_with_lessons(api, lessons=4)
    sid = api.post("/students", {"email": "ana@example.com"}).json()["id"]
    created = api.post("/enrollments", {"course_id": cid, "student_id": sid})
    assert created.status_code == 201 and created.json()["source"] == "api"
    again = api.post("/enrollments", {"course_id": cid, "student_id": sid})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    with in_school(alpha):
        student = User.objects.get(pk=sid)
        lesson = Lesson.objects.filter(course_id=cid).get(position=1)
        set_lesson_completed(school=alpha, student=student, lesson=lesson)
    row = api.get(f"/enrollments?course_id={cid}").json()["data"][0]
    assert (row["completed_lessons"], row["total_lessons"], row["percent"]) == (1, 4, 25)
    eid = row["id"]
    assert api.get(f"/enrollments/{eid}").json()["student_id"] == sid
    assert api.delete(f"/enrollments/{eid}").status_code == 204
    assert api.get("/enrollments").json()["data"] == []


def test_enrol_by_email_creates_and_invites(alpha, api_for, in_school):
    api = api_for(alpha)
    cid = _course_with_lessons(api)
    created = api.post("/enrollments", {"course_id": cid, "email": "new@example.com"})
    assert created.status_code == 201, created.content
    assert mail.outbox[-1].to == ["new@example.com"]
    assert (
        api.post("/enrollments", {"course_id": cid, "email": "new@example.com"}).status_code == 200
    )


@pytest.mark.parametrize(
    "body",
    [
        {"course_id": 1},
        {"course_id": 1, "student_id": 1, "email": "a@example.com"},
        {"course_id": "one", "student_id": 1},
        {"course_id": 1, "student_id": 1, "source": "manual"},
    ],
)
def test_bad_enrolment_requests_change_nothing(alpha, api_for, in_school, body):
    is_problem(api_for(alpha).post("/enrollments", body), 422)
    with in_school(alpha):
        assert not Enrollment.objects.filter(school=alpha).exists()


def test_code_batches_export_revoke_and_redemptions(alpha, api_for, in_school, make_user):
    api = api_for(alpha)
    cid = _course_with_lessons(api)
    created = api.post(
        "/code-batches", {"name": "Shop", "course_ids": [cid], "code_count": 3, "uses_per_code": 2}
    )
    assert created.status_code == 201, created.content
    batch = created.json()
    assert len(batch["codes"]) == 3 and batch["remaining"] == 6
    bid = batch["id"]
    assert [b["id"] for b in api.get("/code-batches").json()["data"]] == [bid]
    page = api.get(f"/code-batches/{bid}/codes?limit=2").json()
    assert [c["code"] for c in page["data"]] == batch["codes"][:2] and page["next"]
    csv = api.get(f"/code-batches/{bid}/codes?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert all(code in csv.content.decode() for code in batch["codes"])

    student = make_user(alpha, "stu@example.com")
    with in_school(alpha):
        redeem_code(school=alpha, student=student, raw_code=batch["codes"][0])
    redemptions = api.get(f"/redemptions?batch_id={bid}").json()["data"]
    assert [(r["student_id"], r["batch_id"]) for r in redemptions] == [(student.pk, bid)]
    assert api.get(f"/code-batches/{bid}").json()["uses"] == 1

    code_id = page["data"][1]["id"]
    revoked = api.post(f"/code-batches/{bid}/codes/{code_id}/revoke").json()
    assert revoked["revoked_at"] is not None
    assert api.post(f"/code-batches/{bid}/revoke").json()["remaining"] == 0
    with in_school(alpha):
        actions = set(AuditLog.objects.filter(school=alpha).values_list("action", flat=True))
    assert {"codes.batch_created", "codes.batch_exported", "codes.code_revoked"} <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "course_ids": [], "code_count": 1}, "course_ids"),
        ({"name": "X", "course_ids": [1], "code_count": 0}, "code_count"),
        ({"name": "X", "course_ids": [1], "code_count": 10_001}, "code_count"),
        ({"name": "", "course_ids": [1], "code_count": 1}, "name"),
        ({"name": "X", "course_ids": [999999], "code_count": 1}, "courses"),
        (
            {"name": "X", "course_ids": [1], "code_count": 1, "expires_at": "2001-01-01T00:00:00Z"},
            None,
        ),
    ],
)
def test_bad_batch_requests_change_nothing(alpha, api_for, in_school, body, field):
    from courseplatform.access.models import AccessCodeBatch

    response = api_for(alpha).post("/code-batches", body)
    problem = is_problem(response, 422)
    if field:
        assert field in {e["field"] for e in problem["errors"]}, problem
    with in_school(alpha):
        assert not AccessCodeBatch.objects.filter(school=alpha).exists()


def test_school_summary_shows_plan_usage(alpha, api_for):
    api = api_for(alpha, scope="read")
    body = api.get("/school").json()
    assert body["slug"] == "alpha" and body["plan"] == "free"
    courses = next(u for u in body["usage"] if u["meter"] == "courses")
    assert courses == {"meter": "courses", "used": 0, "limit": 5, "unit": "count"}


def test_cursor_of_another_list_is_refused(alpha, api_for):
    api = api_for(alpha)
    for n in range(3):
        api.post("/courses", {"title": f"C{n}"})
    cursor = api.get("/courses?limit=1").json()["next"].split("cursor=")[1]
    is_problem(api.get(f"/students?cursor={cursor}"), 400)


def test_api_writes_emit_the_services_events(alpha, api_for, django_capture_on_commit_callbacks):
    from courseplatform.ops import events

    seen: list[tuple[str, dict]] = []
    events.subscribe("api-test", lambda event: seen.append((event.type, event.data)))
    try:
        api = api_for(alpha)
        cid = _course_with_lessons(api, lessons=1)
        with django_capture_on_commit_callbacks(execute=True):
            sid = api.post("/students", {"email": "ev@example.com"}).json()["id"]
            api.post("/enrollments", {"course_id": cid, "student_id": sid})
            api.post(f"/courses/{cid}/publish")
    finally:
        events.unsubscribe("api-test")
    types = [kind for kind, _ in seen]
    assert types == ["student.created", "enrollment.created", "course.published"], types
    assert seen[0][1]["source"] == "invitation"
