"""Every list costs the same number of queries for 2 rows as for 6 (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseplatform.access.services import create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses.services import add_lesson, add_section, create_course, enroll_student
from courseplatform.video.services import create_asset

pytestmark = pytest.mark.django_db

LISTS = ["/courses", "/students", "/enrollments", "/code-batches", "/redemptions", "/videos"]


def _add_rows(school, in_school, make_user, start: int, count: int) -> None:
    with in_school(school):
        owner = User.objects.get(school=school, role="owner")
        for n in range(start, start + count):
            course = create_course(school=school, actor=owner, title=f"Course {n}")
            section = add_section(school=school, actor=owner, course=course, title="S")
            add_lesson(school=school, actor=owner, section=section, title="L")
            student = make_user(school, f"s{n}@example.com")
            enroll_student(school=school, actor=owner, course=course, student=student, source="api")
            batch = create_batch(
                school=school, actor=owner, name=f"B{n}", course_ids=[course.pk], code_count=1
            )
            other = make_user(school, f"r{n}@example.com")
            redeem_code(school=school, student=other, raw_code=batch.codes[0])
            create_asset(school=school, actor=owner, filename=f"v{n}.mp4", size=100)


def _queries(api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


def test_list_queries_do_not_grow_with_rows(alpha, api_for, in_school, make_user, plan_limits):
    plan_limits(alpha.plan, max_courses=None, max_students=None)
    api = api_for(alpha, scope="read")
    api.get("/school")  # the token's first use writes its "last used" time; not counted
    _add_rows(alpha, in_school, make_user, 0, 2)
    small = {path: (_queries(api, path), len(api.get(path).json()["data"])) for path in LISTS}
    _add_rows(alpha, in_school, make_user, 2, 4)
    for path in LISTS:
        count, rows = small[path]
        assert rows >= 2
        assert len(api.get(path).json()["data"]) >= 6
        assert _queries(api, path) == count, path
