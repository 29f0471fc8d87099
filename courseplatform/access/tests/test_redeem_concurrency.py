"""Exactly N: concurrent redemptions against real PostgreSQL, committed data,
one connection per thread (as in production with several workers)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections

from courseplatform.access.models import AccessCode, Redemption
from courseplatform.access.services import RedeemError, create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment
from courseplatform.courses.services import add_lesson, add_section, create_course
from courseplatform.onboarding.services import create_school
from courseplatform.tenancy.rls import school_context

STUDENTS = 50
USES = 10


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    # No wrapping test transaction: other threads' connections must see the rows.
    with django_db_blocker.unblock():
        yield
        connection.close()


def test_fifty_concurrent_redemptions_of_a_ten_use_code_enrol_exactly_ten(committed_db) -> None:
    slug = f"race-{uuid.uuid4().hex[:8]}"
    created = create_school(
        slug=slug,
        name="Race School",
        owner_email="o@race.test",
        owner_password="a-long-test-passphrase-42",
        owner_name="Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = create_course(school=school, actor=owner, title="Concurrency 101")
        section = add_section(school=school, actor=owner, course=course, title="Only")
        add_lesson(school=school, actor=owner, section=section, title="One")
        code = create_batch(
            school=school,
            actor=owner,
            name="Race",
            course_ids=[course.pk],
            code_count=1,
            uses_per_code=USES,
        ).codes[0]
        students = [
            User.objects.create_user(f"s{i}@race.test", None, school=school, full_name=f"S{i}")
            for i in range(STUDENTS)
        ]

    barrier = threading.Barrier(STUDENTS, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(student: User) -> None:
        try:
            with school_context(school):
                barrier.wait()
                try:
                    redeem_code(school=school, student=student, raw_code=code, ip="127.0.0.1")
                    result = "ok"
                except RedeemError as exc:
                    result = exc.reason
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(s,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)

    assert Counter(outcomes) == {"ok": USES, "exhausted": STUDENTS - USES}
    with school_context(school):
        assert Redemption.objects.filter(school=school).count() == USES
        assert Enrollment.objects.filter(school=school, course=course).count() == USES
        assert AccessCode.objects.get(school=school).uses_count == USES
