"""Attempts under real concurrency (PostgreSQL, committed rows, one connection per
thread): a double submit grades the attempt once, a double start makes one attempt,
and the attempt limit holds (``tests.fixtures.concurrency.run_together``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from courseplatform.courses.models import LessonProgress
from courseplatform.onboarding.services import create_school
from courseplatform.quizzes import services
from courseplatform.quizzes.models import Attempt
from courseplatform.quizzes.services import QuizError
from courseplatform.tenancy.rls import school_context
from tests.fixtures.concurrency import run_together

from .support import Built, build_quiz, student

DOUBLE = 2
CROWD = 6


def _built(**settings: Any) -> Built:
    slug = f"quiz-{uuid.uuid4().hex[:8]}"
    created = create_school(
        slug=slug,
        name="Race School",
        owner_email=f"o@{slug}.test",
        owner_password="a-long-test-passphrase-42",
        owner_name="Owner",
    )
    return build_quiz(created.school, created.owner, **settings)


@pytest.mark.django_db(transaction=True)
def test_double_submit_consumes_exactly_one_attempt(committed_db: None) -> None:
    built = _built(max_attempts=1)
    sam = student(built.school, f"sam@{built.school.slug}.test", built)
    with school_context(built.school):
        attempt = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
    answers = built.right_answers()

    def submit() -> services.Submitted:
        return services.submit_attempt(
            school=built.school,
            student=sam,
            lesson=built.lesson,
            attempt_id=attempt.pk,
            answers=answers,
        )

    outcomes = run_together(built.school, [submit] * DOUBLE)
    assert [o.error for o in outcomes] == [None] * DOUBLE
    assert sorted(o.value.replayed for o in outcomes) == [False, True]
    with school_context(built.school):
        attempts = list(Attempt.objects.filter(student=sam))
        assert len(attempts) == 1 and attempts[0].score == 100
        assert LessonProgress.objects.filter(student=sam, lesson=built.lesson).count() == 1
        with pytest.raises(QuizError, match="used the 1 attempt allowed"):
            services.start_attempt(school=built.school, student=sam, lesson=built.lesson)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_starts_make_one_attempt(committed_db: None) -> None:
    built = _built(max_attempts=1)
    sam = student(built.school, f"sam@{built.school.slug}.test", built)

    def start() -> int:
        return services.start_attempt(school=built.school, student=sam, lesson=built.lesson).pk

    outcomes = run_together(built.school, [start] * CROWD)
    assert [o.error for o in outcomes] == [None] * CROWD
    assert len({o.value for o in outcomes}) == 1
    with school_context(built.school):
        assert Attempt.objects.filter(student=sam).count() == 1
