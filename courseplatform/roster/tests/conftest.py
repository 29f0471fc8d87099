"""Fixtures of the roster tests: school A with two courses and two students (one of
them enrolled in the first course), school B with a course of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Course
from courseplatform.courses.tests.test_student_views import enroll, new_user
from courseplatform.notices.tests.conftest import refusing_mail  # noqa: F401 (a fixture)
from courseplatform.roster import services, tasks
from courseplatform.roster.models import StudentImport
from courseplatform.roster.tests.files import csv_bytes, upload
from courseplatform.tenancy.rls import school_context


@dataclass
class World:
    school: Any
    owner: User
    drawing: Course
    shading: Course
    ann: User  # enrolled in drawing
    bob: User  # enrolled in nothing
    other_school: Any
    other_owner: User
    other_course: Course


def _course(school: Any, owner: User, title: str) -> Course:
    with school_context(school):
        return course_services.create_course(school=school, actor=owner, title=title)


@pytest.fixture
def world(school_a: Any, school_b: Any) -> World:
    school, owner = school_a.school, school_a.owner
    drawing = _course(school, owner, "Drawing")
    shading = _course(school, owner, "Shading")
    ann = new_user(school, "ann@alpha.test", name="Ann Existing")
    bob = new_user(school, "bob@alpha.test", name="Bob Existing")
    enroll(school, owner, drawing, ann)
    other = _course(school_b.school, school_b.owner, "Bravo Secrets")
    return World(school, owner, drawing, shading, ann, bob, school_b.school, school_b.owner, other)


def make_import(
    school: Any, actor: User, rows: list[list[str]], *, name: str = "students.csv"
) -> StudentImport:
    with school_context(school):
        return services.create_import(
            school=school, actor=actor, upload=upload(name, csv_bytes(rows))
        )


def apply_all(school: Any, actor: User, student_import: StudentImport) -> list[dict[str, int]]:
    """Apply through the service, then run the batches the worker would run until no
    row waits (bounded). The tests' transaction never commits, so the enqueue itself
    (an on-commit callback) never fires here."""
    with school_context(school):
        services.apply_import(school=school, actor=actor, student_import=student_import)
    outcomes: list[dict[str, int]] = []
    for _ in range(1000):
        outcome = tasks.run_import_batch(school_id=school.pk, import_id=student_import.pk)
        outcomes.append(outcome)
        if not outcome["waiting"]:
            break
    return outcomes
