"""Redemption under real concurrency: PostgreSQL, committed data, one connection per
thread (as in production with several workers). Workers connect before the race
starts and every wait is generous but bounded (``tests.fixtures.concurrency``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

from django.db import connection, connections, transaction

from courseplatform.access.models import AccessCode, Redemption
from courseplatform.access.services import RedeemError, RedeemResult, create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course, Enrollment
from courseplatform.courses.services import add_lesson, add_section, create_course
from courseplatform.onboarding.services import create_school
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from tests.fixtures.concurrency import DEADLINE_SECONDS, Outcome, run_together

STUDENTS = 50
USES = 10
PARALLEL_CODES = 8
ROUNDS = 5


def _school_with_course(prefix: str) -> tuple[School, User, Course]:
    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    created = create_school(
        slug=slug,
        name="Race School",
        owner_email=f"o@{slug}.test",
        owner_password="a-long-test-passphrase-42",
        owner_name="Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = create_course(school=school, actor=owner, title="Concurrency 101")
        section = add_section(school=school, actor=owner, course=course, title="Only")
        add_lesson(school=school, actor=owner, section=section, title="One")
    return school, owner, course


def _students(school: School, count: int) -> list[User]:
    with school_context(school):
        return [
            User.objects.create_user(
                f"s{i}@{school.slug}.test", None, school=school, full_name=f"S{i}"
            )
            for i in range(count)
        ]


def _redeem(school: School, student: User, code: str) -> Any:
    return lambda: redeem_code(school=school, student=student, raw_code=code, ip="127.0.0.1")


def _answer(outcome: Outcome) -> str:
    if isinstance(outcome.error, RedeemError):
        return outcome.error.reason
    if outcome.error is not None:
        raise outcome.error
    result: RedeemResult = outcome.value
    return "already" if result.already_enrolled else "ok"


def test_fifty_concurrent_redemptions_of_a_ten_use_code_enrol_exactly_ten(committed_db) -> None:
    school, owner, course = _school_with_course("race")
    with school_context(school):
        code = create_batch(
            school=school,
            actor=owner,
            name="Race",
            course_ids=[course.pk],
            code_count=1,
            uses_per_code=USES,
        ).codes[0]
    students = _students(school, STUDENTS)

    outcomes = run_together(school, [_redeem(school, s, code) for s in students])

    assert Counter(map(_answer, outcomes)) == {"ok": USES, "exhausted": STUDENTS - USES}
    with school_context(school):
        assert Redemption.objects.filter(school=school).count() == USES
        assert Enrollment.objects.filter(school=school, course=course).count() == USES
        assert AccessCode.objects.get(school=school).uses_count == USES


def test_one_student_redeeming_different_codes_for_one_course_at_once_consumes_one_use(
    committed_db,
) -> None:
    """Codes of separate batches, all for the same course, fired together by one
    student: one enrols, the rest find the student enrolled and use nothing."""
    school, owner, course = _school_with_course("twice")
    with school_context(school):
        batches = [
            create_batch(
                school=school,
                actor=owner,
                name=f"Batch {i}",
                course_ids=[course.pk],
                code_count=ROUNDS,
            ).codes
            for i in range(PARALLEL_CODES)
        ]
    students = _students(school, ROUNDS)

    # Several rounds (a fresh student and fresh codes each) so an unlucky schedule
    # cannot hide a race.
    for round_, student in enumerate(students):
        plaintexts = [batch[round_] for batch in batches]
        outcomes = run_together(school, [_redeem(school, student, c) for c in plaintexts])
        assert Counter(map(_answer, outcomes)) == {"ok": 1, "already": PARALLEL_CODES - 1}

    with school_context(school):
        assert Redemption.objects.filter(school=school).count() == ROUNDS
        for student in students:
            assert Redemption.objects.filter(school=school, student=student).count() == 1
            assert Enrollment.objects.filter(school=school, student=student).count() == 1
        uses = list(AccessCode.objects.filter(school=school).values_list("uses_count", flat=True))
        assert sum(uses) == ROUNDS and max(uses) <= 1


def _backend_waits_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return bool(cursor.fetchone()[0])


def test_redemption_gives_the_use_back_when_another_path_enrolled_the_student_meanwhile(
    committed_db,
) -> None:
    """The owner enrols the student by hand while the redemption is between its check
    and its enrolment: nothing new was enrolled, so the use is rolled back."""
    school, owner, course = _school_with_course("meanwhile")
    with school_context(school):
        code = create_batch(
            school=school, actor=owner, name="Hand", course_ids=[course.pk], code_count=1
        ).codes[0]
    [student] = _students(school, 1)

    redeem_pid: list[int] = []
    connected = threading.Event()
    outcome = Outcome()

    def redeem_in_thread() -> None:
        try:
            with school_context(school):
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    redeem_pid.append(cursor.fetchone()[0])
                connected.set()
                outcome.value = _redeem(school, student, code)()
        except Exception as exc:
            outcome.error = exc
        finally:
            connected.set()
            connections.close_all()

    deadline = time.monotonic() + DEADLINE_SECONDS
    thread = threading.Thread(target=redeem_in_thread, daemon=True)
    with school_context(school), transaction.atomic():
        # The hand enrolment is written but not committed: the redemption does not see
        # it when it checks, and its own enrolment insert has to wait for this one.
        Enrollment.objects.create(
            school=school, student=student, course=course, source=Enrollment.Source.MANUAL
        )
        thread.start()
        assert connected.wait(timeout=DEADLINE_SECONDS) and redeem_pid, outcome.error
        while not _backend_waits_for_a_lock(redeem_pid[0]):
            assert time.monotonic() < deadline and thread.is_alive(), outcome.error
            time.sleep(0.05)
    thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not thread.is_alive()

    assert _answer(outcome) == "already"
    with school_context(school):
        assert AccessCode.objects.get(school=school).uses_count == 0
        assert not Redemption.objects.filter(school=school).exists()
        assert Enrollment.objects.get(school=school, student=student).source == "manual"
