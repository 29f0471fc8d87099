"""Courses through the API: the whole authoring path, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest

from courseplatform.courses.models import Course
from courseplatform.ops.models import AuditLog

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def _count(in_school, school) -> int:
    with in_school(school):
        return Course.objects.filter(school=school).count()


def test_course_authoring_round_trip(alpha, api_for, in_school):
    api = api_for(alpha)
    created = api.post(
        "/courses", {"title": "Knots", "subtitle": "Ropes", "description_md": "# Hi"}
    )
    assert created.status_code == 201, created.content
    course = created.json()
    assert course["status"] == "draft" and course["sections"] == []
    cid = course["id"]

    section = api.post(f"/courses/{cid}/sections", {"title": "Basics"}).json()
    lesson = api.post(
        f"/courses/{cid}/sections/{section['id']}/lessons", {"title": "Bowline"}
    ).json()
    assert lesson["kind"] == "text" and lesson["section_id"] == section["id"]
    patched = api.patch(
        f"/courses/{cid}/lessons/{lesson['id']}", {"body_md": "Loop", "is_preview": True}
    ).json()
    assert patched["body_md"] == "Loop" and patched["is_preview"] and patched["title"] == "Bowline"
    assert (
        api.patch(f"/courses/{cid}/sections/{section['id']}", {"title": "Start"}).json()["title"]
        == "Start"
    )

    published = api.post(f"/courses/{cid}/publish").json()
    assert published["status"] == "published"
    assert published["sections"][0]["lessons"][0]["id"] == lesson["id"]
    assert api.post(f"/courses/{cid}/unpublish").json()["status"] == "draft"
    renamed = api.patch(f"/courses/{cid}", {"title": "Sailing knots"}).json()
    assert renamed["title"] == "Sailing knots" and renamed["subtitle"] == "Ropes"

    assert api.get(f"/courses/{cid}").json()["sections"][0]["title"] == "Start"
    assert api.delete(f"/courses/{cid}/lessons/{lesson['id']}").status_code == 204
    assert api.delete(f"/courses/{cid}/sections/{section['id']}").status_code == 204
    assert api.delete(f"/courses/{cid}").status_code == 204
    is_problem(api.get(f"/courses/{cid}"), 404)

    with in_school(alpha):
        actions = list(
            AuditLog.objects.filter(school=alpha, action="api.write").values_list(
                "data__method", flat=True
            )
        )
        created_entry = AuditLog.objects.get(school=alpha, action="course.created")
    assert len(actions) == 11
    assert created_entry.data["via"]["api_token"] is not None


def test_publishing_an_empty_course_is_a_conflict(alpha, api_for):
    api = api_for(alpha)
    cid = api.post("/courses", {"title": "Empty"}).json()["id"]
    body = is_problem(api.post(f"/courses/{cid}/publish"), 409)
    assert "lesson" in body["detail"]
    assert api.get(f"/courses/{cid}").json()["status"] == "draft"


def test_list_paginates_with_a_signed_cursor_and_filters(alpha, api_for):
    api = api_for(alpha)
    ids = [api.post("/courses", {"title": f"Course {n}"}).json()["id"] for n in range(5)]
    first = api.get("/courses?limit=2").json()
    assert [c["id"] for c in first["data"]] == ids[:2]
    assert first["next"].startswith("http://alpha.localhost/api/v1/courses?")
    second = api.get(first["next"].split("/api/v1")[1]).json()
    assert [c["id"] for c in second["data"]] == ids[2:4]
    third = api.get(second["next"].split("/api/v1")[1]).json()
    assert [c["id"] for c in third["data"]] == ids[4:] and third["next"] is None
    assert api.get("/courses?status=published").json()["data"] == []
    assert len(api.get("/courses?updated_since=2000-01-01T00:00:00Z").json()["data"]) == 5
    assert api.get("/courses?updated_since=2999-01-01T00:00:00Z").json()["data"] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?cursor=garbage", 400),
        ("?cursor=eyJyIjoiY291cnNlcyIsImEiOjF9:1abc:forged", 400),
        ("?limit=100000", 422),
        ("?limit=0", 422),
        ("?limit=ten", 422),
        ("?updated_since=yesterday", 422),
        ("?status=archived", 422),
    ],
)
def test_bad_list_parameters_are_problems(alpha, api_for, query, status):
    body = is_problem(api_for(alpha).get(f"/courses{query}"), status)
    if status == 422:
        assert body["errors"][0]["field"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"title": "Unclosed"', None),
        ("[1, 2]", None),
        ({"title": 42}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Fine", "price": 10}, "price"),
        ({"subtitle": "no title"}, "title"),
        ({"title": "Two\nlines"}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "Pic", "description_md": "![x](https://evil.example/x.png)"}, "description_md"),
    ],
)
def test_bad_course_input_is_a_clear_problem_and_creates_nothing(
    alpha, api_for, in_school, body, field
):
    response = api_for(alpha).post("/courses", body)
    assert response.status_code in (400, 422)
    problem = is_problem(response, response.status_code)
    if field:
        assert field in {error["field"] for error in problem["errors"]}, problem
    assert _count(in_school, alpha) == 0
    with in_school(alpha):
        assert not AuditLog.objects.filter(school=alpha, action="api.write").exists()


def test_plan_course_limit_is_a_problem_and_creates_nothing(alpha, api_for, in_school, plan_limits):
    plan_limits(alpha.plan, max_courses=1)
    api = api_for(alpha)
    assert api.post("/courses", {"title": "One"}).status_code == 201
    body = is_problem(api.post("/courses", {"title": "Two"}), 409)
    assert "1 courses" in body["detail"] and body["type"].endswith(":conflict")
    assert _count(in_school, alpha) == 1


def test_ids_of_a_section_of_another_course_are_404(alpha, api_for):
    api = api_for(alpha)
    one = api.post("/courses", {"title": "One"}).json()["id"]
    two = api.post("/courses", {"title": "Two"}).json()["id"]
    section = api.post(f"/courses/{one}/sections", {"title": "S"}).json()["id"]
    is_problem(api.patch(f"/courses/{two}/sections/{section}", {"title": "X"}), 404)
    is_problem(api.post(f"/courses/{two}/sections/{section}/lessons", {"title": "X"}), 404)


def test_unhandled_error_is_a_500_problem_without_internals(alpha, api_for, monkeypatch):
    from courseplatform.courses import selectors

    def explode(**kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(selectors, "courses_for_manager", explode)
    response = api_for(alpha).get("/courses")
    body = is_problem(response, 500)
    assert "hunter2" not in json.dumps(body) and "Traceback" not in response.content.decode()
