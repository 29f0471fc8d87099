"""School A's token against school B's objects: every id is 404, every list is A's only,
and nothing of B changes. Parametrized over the API's whole URL map."""

from __future__ import annotations

import json
import re

import pytest

from courseplatform.api.api import api as school_api
from courseplatform.ops.models import AuditLog

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def _operations() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for bound in school_api._get_bound_routers():
        for path, view in bound.template.path_operations.items():
            for operation in view.operations:
                found.extend((method, path) for method in operation.methods)
    return sorted(found)


OPERATIONS = _operations()
WITH_IDS = [(m, p) for m, p in OPERATIONS if "{" in p]
LISTS = [p for m, p in OPERATIONS if m == "GET" and "{" not in p and p != "/school"]
# Valid bodies, so the answer is about the ids and not about the payload.
BODIES = {
    ("PATCH", "/courses/{course_id}"): {"title": "Taken over"},
    ("POST", "/courses/{course_id}/sections"): {"title": "Injected"},
    ("PATCH", "/courses/{course_id}/sections/{section_id}"): {"title": "Taken over"},
    ("POST", "/courses/{course_id}/sections/{section_id}/lessons"): {"title": "Injected"},
    ("PATCH", "/courses/{course_id}/lessons/{lesson_id}"): {"title": "Taken over"},
}


def build_school(api, tag: str, make_user, school, in_school) -> dict[str, int]:
    """A course with a section and a lesson, a student, an enrolment, a batch with a
    redemption: one object of every kind the API addresses."""
    from courseplatform.access.services import redeem_code
    from courseplatform.accounts.models import User
    from courseplatform.video.services import create_asset

    course = api.post("/courses", {"title": f"{tag} course"}).json()["id"]
    section = api.post(f"/courses/{course}/sections", {"title": "S"}).json()["id"]
    lesson = api.post(f"/courses/{course}/sections/{section}/lessons", {"title": "L"}).json()["id"]
    student = api.post("/students", {"email": f"student@{tag}.test"}).json()["id"]
    enrollment = api.post("/enrollments", {"course_id": course, "student_id": student}).json()["id"]
    batch = api.post("/code-batches", {"name": "B", "course_ids": [course], "code_count": 2}).json()
    code = api.get(f"/code-batches/{batch['id']}/codes").json()["data"][0]["id"]
    redeemer = make_user(school, f"redeemer@{tag}.test")
    with in_school(school):
        redeem_code(school=school, student=redeemer, raw_code=batch["codes"][0])
        owner = User.objects.get(school=school, role="owner")
        video = create_asset(school=school, actor=owner, filename="clip.mp4", size=1000)
    return {
        "course_id": course,
        "section_id": section,
        "lesson_id": lesson,
        "student_id": student,
        "enrollment_id": enrollment,
        "batch_id": batch["id"],
        "code_id": code,
        "video_id": video.pk,
    }


@pytest.fixture
def two_schools(alpha, bravo, api_for, make_user, in_school):
    api_a, api_b = api_for(alpha), api_for(bravo)
    ids_a = build_school(api_a, "alpha", make_user, alpha, in_school)
    ids_b = build_school(api_b, "bravo", make_user, bravo, in_school)
    return api_a, api_b, ids_a, ids_b


def _snapshot(school, in_school) -> str:
    """Every row of B that the API could touch, to prove nothing of B changed."""
    from courseplatform.access.models import AccessCode, AccessCodeBatch, Redemption
    from courseplatform.accounts.models import User
    from courseplatform.courses.models import Course, Enrollment, Lesson, LessonProgress, Section

    models = [Course, Section, Lesson, Enrollment, LessonProgress, User]
    from courseplatform.video.models import VideoAsset

    models += [AccessCodeBatch, AccessCode, Redemption, VideoAsset]
    with in_school(school):
        rows = [
            list(model._default_manager.filter(school=school).order_by("pk").values())
            for model in models
        ]
    return json.dumps(rows, sort_keys=True, default=str)


def test_the_url_map_is_covered():
    # A new endpoint with ids must be added to this file's checks (BODIES when it has one).
    assert len(WITH_IDS) >= 15
    for method, path in WITH_IDS:
        if method in ("PATCH", "PUT"):
            assert (method, path) in BODIES


# Every operation with B's ids only; those with two ids also with A's parent (course or
# batch) and B's child, which must not be reachable through a parent A owns.
ID_CASES = [(m, p, "all-foreign") for m, p in WITH_IDS] + [
    (m, p, "own-parent") for m, p in WITH_IDS if p.count("{") > 1
]


@pytest.mark.parametrize(("method", "path", "mix"), ID_CASES)
def test_other_schools_ids_are_404_and_change_nothing(
    two_schools, bravo, in_school, method, path, mix
):
    api_a, _api_b, ids_a, ids_b = two_schools
    names = re.findall(r"{(\w+)}", path)
    values = {name: ids_b[name] for name in names}
    if mix == "own-parent":
        values[names[0]] = ids_a[names[0]]  # A's course or batch, B's child
    before = _snapshot(bravo, in_school)
    response = api_a.request(method, path.format(**values), BODIES.get((method, path)))
    is_problem(response, 404)
    assert _snapshot(bravo, in_school) == before


@pytest.mark.parametrize("path", LISTS)
def test_lists_never_include_other_schools_rows(two_schools, path):
    api_a, api_b, _ids_a, _ids_b = two_schools
    mine = api_a.get(path).json()["data"]
    theirs = api_b.get(path).json()["data"]
    assert mine and theirs
    assert not {row["id"] for row in mine} & {row["id"] for row in theirs}


@pytest.mark.parametrize(
    "query",
    [
        "/enrollments?course_id={course_id}",
        "/enrollments?student_id={student_id}",
        "/redemptions?batch_id={batch_id}",
    ],
)
def test_filters_by_other_schools_ids_find_nothing(two_schools, query):
    api_a, _, _, ids_b = two_schools
    assert api_a.get(query.format(**ids_b)).json()["data"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/enrollments", {"course_id": "course_id", "student_id": "own:student_id"}),
        ("/enrollments", {"course_id": "own:course_id", "student_id": "student_id"}),
        ("/code-batches", {"name": "X", "course_ids": ["course_id"], "code_count": 1}),
    ],
)
def test_other_schools_ids_in_bodies_are_refused(two_schools, in_school, alpha, bravo, path, body):
    api_a, _api_b, ids_a, ids_b = two_schools

    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, str) and value.startswith("own:"):
            return ids_a[value[4:]]
        return ids_b.get(value, value) if isinstance(value, str) else value

    payload = {key: resolve(value) for key, value in body.items()}
    before = _snapshot(bravo, in_school)
    with in_school(alpha):
        writes = AuditLog.objects.filter(school=alpha, action="api.write").count()
    response = api_a.post(path, payload)
    assert response.status_code in (404, 422)
    is_problem(response, response.status_code)
    assert _snapshot(bravo, in_school) == before
    with in_school(alpha):
        assert AuditLog.objects.filter(school=alpha, action="api.write").count() == writes
