"""Taking a quiz: attempts, grading on the server, completion, limits, replays and
the refusals (another student's attempt, forged answers); the lesson page never
holds the correct answers before submission."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courseplatform.courses.models import LessonProgress
from courseplatform.quizzes import services
from courseplatform.quizzes.models import Attempt, Question
from courseplatform.quizzes.services import QuizError
from courseplatform.tenancy.rls import school_context

from .support import Built, build_quiz, client_as, student

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(school_a: Any) -> Built:
    return build_quiz(school_a.school, school_a.owner, max_attempts=2, pass_mark=75)


def _state(built: Built) -> list[tuple[Any, ...]]:
    with school_context(built.school):
        return list(
            Attempt.objects.order_by("pk").values_list(
                "pk", "number", "score", "passed", "submitted_at", "answers"
            )
        )


def _attempt_id(html: str) -> int:
    match = re.search(r"/quiz/attempts/(\d+)/", html)
    assert match, "no attempt form on the page"
    return int(match.group(1))


def test_student_passes_through_the_pages_and_the_lesson_completes(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    client = client_as(sam)
    page = client.get(built.lesson_url()).content.decode()
    assert "Start the quiz" in page
    assert "Pass the quiz to complete this lesson." in page
    response = client.post(built.start_url())
    assert response.status_code == 302 and response["Location"].endswith("#quiz")
    page = client.get(built.lesson_url()).content.decode()
    attempt_id = _attempt_id(page)
    # Keyboard and screen readers: each question is a fieldset with a legend, each
    # option a labelled input.
    assert page.count("<fieldset") == 4 and page.count("<legend") == 4
    assert "no questions yet" not in page and "Start the quiz" not in page
    for question in built.questions:
        for option in question.options.all():
            assert f'<label for="q{question.pk}-o{option.pk}"' in page
    response = client.post(built.submit_url(attempt_id), built.right_answers(), follow=True)
    page = response.content.decode()
    assert "You passed with 100%" in page
    assert "Attempt 1: 100% (4 of 4 right)" in page
    assert "The Pacific covers a third of the Earth." in page  # the explanation, after
    assert "1 of 2" in page  # attempts remaining
    with school_context(built.school):
        progress = LessonProgress.objects.get(student=sam, lesson=built.lesson)
        attempt = Attempt.objects.get(pk=attempt_id)
    assert progress.completed_at is not None
    assert attempt.submitted_at is not None and attempt.started_at <= attempt.submitted_at
    assert attempt.score == 100 and attempt.passed
    assert attempt.answers[str(built.questions[3].pk)] == "  paris "
    # Course progress moved: 1 of 2 lessons.
    assert "1 of 2 completed" in client.get(built.lesson_url()).content.decode()


def test_answers_are_never_in_the_page_before_submission(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    client = client_as(sam)
    client.post(built.start_url())
    page = client.get(built.lesson_url()).content.decode()
    assert "Atlantic" in page and "Pacific" in page  # the options are there...
    assert "Paris" not in page  # ...the accepted text answer is not,
    assert "Pacific covers" not in page  # nor the explanation,
    assert "correct" not in page.lower().replace("correct answers are shown", "")
    assert "is_correct" not in page and "data-correct" not in page
    # The options appear in the same markup whether right or wrong.
    single = built.questions[0]
    rows = [
        re.search(rf'<input id="q{single.pk}-o{o.pk}"[^>]*>', page).group(0)  # type: ignore[union-attr]
        for o in single.options.all()
    ]
    assert len({re.sub(r"\d+", "N", row) for row in rows}) == 1


def test_failing_then_reveal_only_after_passing(school_a: Any) -> None:
    built = build_quiz(school_a.school, school_a.owner, reveal="passing", max_attempts=None)
    sam = student(built.school, "sam@alpha.test", built)
    client = client_as(sam)
    client.post(built.start_url())
    attempt_id = _attempt_id(client.get(built.lesson_url()).content.decode())
    page = client.post(built.submit_url(attempt_id), built.wrong_answers(), follow=True)
    html = page.content.decode()
    assert "You scored 0%; the pass mark is 70%." in html
    assert "The correct answers are shown once you pass this quiz." in html
    assert "Pacific covers" not in html and "Paris" not in html
    assert "Unlimited" in html and "Try again" in html
    with school_context(built.school):
        assert not LessonProgress.objects.filter(student=sam, completed_at__isnull=False).exists()
    client.post(built.start_url())
    attempt_id = _attempt_id(client.get(built.lesson_url()).content.decode())
    response = client.post(built.submit_url(attempt_id), built.right_answers(), follow=True)
    assert "Pacific covers" in response.content.decode()


def test_attempt_limit_and_best_score(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    with school_context(built.school):
        first = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
        # Starting again while one is open returns the same attempt.
        assert (
            services.start_attempt(school=built.school, student=sam, lesson=built.lesson).pk
            == first.pk
        )
        half = built.right_answers()
        half.update({k: v for k, v in list(built.wrong_answers().items())[:2]})
        services.submit_attempt(
            school=built.school, student=sam, lesson=built.lesson, attempt_id=first.pk, answers=half
        )
        second = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
        services.submit_attempt(
            school=built.school,
            student=sam,
            lesson=built.lesson,
            attempt_id=second.pk,
            answers=built.wrong_answers(),
        )
        before = _state(built)
        with pytest.raises(QuizError, match="used all 2 attempt"):
            services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
    assert _state(built) == before
    page = client_as(sam).get(built.lesson_url()).content.decode()
    assert "50%" in page  # best score
    assert "0 of 2" in page
    assert "You have used every attempt of this quiz." in page
    response = client_as(sam).post(built.start_url(), follow=True)
    assert "used all 2 attempts" in response.content.decode()
    assert _state(built) == before


def test_replayed_submission_changes_nothing(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    client = client_as(sam)
    client.post(built.start_url())
    attempt_id = _attempt_id(client.get(built.lesson_url()).content.decode())
    client.post(built.submit_url(attempt_id), built.wrong_answers())
    before = _state(built)
    response = client.post(built.submit_url(attempt_id), built.right_answers(), follow=True)
    assert "already submitted; nothing was changed" in response.content.decode()
    assert _state(built) == before
    with school_context(built.school):
        assert not LessonProgress.objects.filter(student=sam).exclude(completed_at=None).exists()


def test_another_students_attempt_is_not_found(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    eve = student(built.school, "eve@alpha.test", built)
    with school_context(built.school):
        attempt = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
    before = _state(built)
    response = client_as(eve).post(built.submit_url(attempt.pk), built.right_answers())
    assert response.status_code == 404
    assert _state(built) == before
    with school_context(built.school), pytest.raises(Http404):
        services.submit_attempt(
            school=built.school,
            student=eve,
            lesson=built.lesson,
            attempt_id=attempt.pk,
            answers=built.right_answers(),
        )
    assert _state(built) == before


def test_forged_answers_are_refused_and_nothing_changes(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    client = client_as(sam)
    client.post(built.start_url())
    attempt_id = _attempt_id(client.get(built.lesson_url()).content.decode())
    single, multiple, _, text = built.questions
    other_option = multiple.options.all()[0].pk
    forged = [
        {f"q{single.pk}": [str(other_option)]},  # an option of another question
        {f"q{single.pk}": ["not-a-number"]},
        {f"q{single.pk}": [str(o.pk) for o in single.options.all()][:2]},  # two for single
        {f"q{multiple.pk}": [str(o.pk) for o in multiple.options.all()] * 2},  # too many
        {f"q{text.pk}": ["x" * 201]},
        {f"q{text.pk}": ["Paris", "Lyon"]},
    ]
    before = _state(built)
    for data in forged:
        response = client.post(built.submit_url(attempt_id), data, follow=True)
        assert "Your answers were not submitted." in response.content.decode(), data
        assert _state(built) == before
    # No answer at all is allowed: every question counts as wrong.
    response = client.post(built.submit_url(attempt_id), {}, follow=True)
    assert "You scored 0%" in response.content.decode()


def test_only_enrolled_students_take_quizzes(built: Built) -> None:
    outsider = student(built.school, "out@alpha.test")
    response = client_as(outsider).post(built.start_url())
    assert response.status_code == 403
    with school_context(built.school), pytest.raises(PermissionDenied):
        services.start_attempt(school=built.school, student=outsider, lesson=built.lesson)
    assert _state(built) == []
    # Anonymous visitors log in first.
    from django.test import Client

    anonymous = Client(HTTP_HOST="alpha.localhost")
    assert anonymous.post(built.start_url())["Location"].startswith("/accounts/login/")
    assert anonymous.post(built.submit_url(1))["Location"].startswith("/accounts/login/")


def test_a_quiz_lesson_is_not_ticked_off_by_hand(built: Built) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    response = client_as(sam).post(f"{built.lesson_url()}complete/", {"completed": "1"})
    assert response.status_code == 403
    with school_context(built.school):
        assert not LessonProgress.objects.filter(student=sam, lesson=built.lesson).exists()


def test_quiz_without_questions_and_non_quiz_lessons(school_a: Any) -> None:
    from courseplatform.courses import services as courses

    school, owner = school_a.school, school_a.owner
    built = build_quiz(school, owner)
    sam = student(school, "sam@alpha.test", built)
    with school_context(school):
        empty = courses.add_lesson(
            school=school, actor=owner, section=built.lesson.section, title="Empty", kind="quiz"
        )
        with pytest.raises(QuizError, match="no questions yet"):
            services.start_attempt(school=school, student=sam, lesson=empty)
        with pytest.raises(QuizError, match="not a quiz"):
            services.start_attempt(school=school, student=sam, lesson=built.text_lesson)
    page = client_as(sam).get(f"/courses/{built.course.slug}/lessons/{empty.pk}/")
    assert "This quiz has no questions yet." in page.content.decode()
    # The start URL of a lesson that is no quiz is 404.
    url = f"/courses/{built.course.slug}/lessons/{built.text_lesson.pk}/quiz/start/"
    assert client_as(sam).post(url).status_code == 404


def test_shuffled_layout_keeps_every_question_and_option(school_a: Any) -> None:
    built = build_quiz(
        school_a.school, school_a.owner, shuffle_questions=True, shuffle_options=True
    )
    sam = student(built.school, "sam@alpha.test", built)
    with school_context(built.school):
        attempt = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
        expected = {q.pk: {o.pk for o in q.options.all()} for q in built.questions}
        assert {qid: set(options) for qid, options in attempt.layout} == expected
        # A question deleted mid-attempt is not graded.
        Question.objects.filter(pk=built.questions[0].pk).delete()
        done = services.submit_attempt(
            school=built.school,
            student=sam,
            lesson=built.lesson,
            attempt_id=attempt.pk,
            answers=built.right_answers(),
        )
    assert done.attempt.question_count == 3 and done.attempt.score == 100


def test_manager_sees_a_note_not_a_form(built: Built) -> None:
    page = client_as(built.owner).get(built.lesson_url()).content.decode()
    assert "quiz statistics" in page
    assert "Start the quiz" not in page


def test_a_quiz_in_a_section_not_open_yet_cannot_be_started(built: Built) -> None:
    from courseplatform.courses import drip
    from courseplatform.courses.models import Section

    sam = student(built.school, "sam@alpha.test", built)
    with school_context(built.school):
        section = Section.objects.get(pk=built.lesson.section_id)
        drip.set_section_release(
            school=built.school, actor=built.owner, section=section, release="days", days=3
        )
        with pytest.raises(QuizError, match="not open yet"):
            services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
    response = client_as(sam).post(built.start_url(), follow=True)
    assert "This quiz is not open yet." in response.content.decode()
    assert _state(built) == []
