"""School B can neither read, list, change nor guess school A's quizzes, questions
or attempts, by id or URL, on its own host or on A's."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from courseplatform.quizzes import selectors, services
from courseplatform.quizzes.models import Attempt, Option, Question, Quiz
from courseplatform.tenancy.rls import school_context

from .support import build_quiz, client_as, student

pytestmark = pytest.mark.django_db


def _rows(school: Any) -> list[Any]:
    with school_context(school):
        return [
            list(model.objects.order_by("pk").values())
            for model in (Quiz, Question, Option, Attempt)
        ]


def test_school_b_cannot_reach_school_a_quizzes(school_a: Any, school_b: Any) -> None:
    a = build_quiz(school_a.school, school_a.owner)
    b = build_quiz(school_b.school, school_b.owner, title="Bravo quiz")
    sam_a = student(a.school, "sam@alpha.test", a)
    sam_b = student(b.school, "sam@bravo.test", b)
    with school_context(a.school):
        attempt = services.start_attempt(school=a.school, student=sam_a, lesson=a.lesson)
    before = _rows(a.school)

    # RLS: B's context sees none of A's rows.
    with school_context(b.school):
        assert not Quiz.objects.filter(pk=a.quiz.pk).exists()
        assert not Question.objects.filter(quiz_id=a.quiz.pk).exists()
        assert not Attempt.objects.filter(pk=attempt.pk).exists()
        assert Quiz.objects.count() == 1

    owner_b = client_as(b.owner)
    question = a.questions[0]
    for url in (
        f"/manage/courses/quizzes/questions/{question.pk}/",
        f"/manage/courses/quizzes/questions/{question.pk}/delete/",
        f"/manage/courses/quizzes/lessons/{a.lesson.pk}/stats/",
        f"/manage/courses/quizzes/lessons/{a.lesson.pk}/questions/new/?kind=single",
        f"/manage/courses/quizzes/courses/{a.course.pk}/students/{sam_a.pk}/",
        f"/manage/courses/quizzes/courses/{b.course.pk}/students/{sam_a.pk}/",
    ):
        assert owner_b.get(url).status_code == 404, url
    for url, data in (
        (f"/manage/courses/quizzes/lessons/{a.lesson.pk}/settings/", {"pass_mark": "1"}),
        (f"/manage/courses/quizzes/questions/{question.pk}/", {"prompt_md": "hacked"}),
        (f"/manage/courses/quizzes/questions/{question.pk}/move/", {"direction": "down"}),
        (f"/manage/courses/quizzes/questions/{question.pk}/delete/", {}),
    ):
        assert owner_b.post(url, data).status_code == 404, url

    # B's student: A's quiz URLs on B's host, and A's attempt id, are 404.
    client_b = client_as(sam_b)
    assert client_b.get(a.lesson_url()).status_code == 404
    assert client_b.post(a.start_url()).status_code == 404
    assert client_b.post(a.submit_url(attempt.pk), a.right_answers()).status_code == 404
    # A's attempt id under B's own quiz lesson: not found either.
    assert client_b.post(b.submit_url(attempt.pk), a.right_answers()).status_code == 404
    # B's session is not valid on A's host.
    response = client_as(sam_b, host="alpha.localhost").post(a.start_url())
    assert response.status_code in (302, 403, 404)

    # Services and selectors, called with school B and A's objects.
    with school_context(b.school):
        with pytest.raises(Http404):
            services.start_attempt(school=b.school, student=sam_b, lesson=a.lesson)
        with pytest.raises(Http404):
            services.submit_attempt(
                school=b.school, student=sam_b, lesson=b.lesson, attempt_id=attempt.pk, answers={}
            )
        with pytest.raises(Http404):
            selectors.get_question_for_manager(
                school=b.school, user=b.owner, question_id=question.pk
            )
        with pytest.raises(Http404):
            services.delete_question(school=b.school, actor=b.owner, question=question)
    assert _rows(a.school) == before
