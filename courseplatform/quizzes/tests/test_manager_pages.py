"""Instructors' views of a quiz: per-question statistics and each student's attempts
from the roster, with their query counts at two data sizes."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.quizzes import services
from courseplatform.tenancy.rls import school_context
from tests.fixtures.queries import page_statements

from .support import Built, build_quiz, client_as, student

pytestmark = pytest.mark.django_db


def _take(built: Built, email: str, answers: dict[str, list[str]]) -> Any:
    person = student(built.school, email, built)
    with school_context(built.school):
        attempt = services.start_attempt(school=built.school, student=person, lesson=built.lesson)
        services.submit_attempt(
            school=built.school,
            student=person,
            lesson=built.lesson,
            attempt_id=attempt.pk,
            answers=answers,
        )
    return person


def test_statistics_per_question(school_a: Any) -> None:
    built = build_quiz(school_a.school, school_a.owner)
    url = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/stats/"
    client = client_as(built.owner)
    assert "No submitted attempts yet" in client.get(url).content.decode()
    _take(built, "a@alpha.test", built.right_answers())
    _take(built, "b@alpha.test", built.wrong_answers())
    wrong = built.wrong_answers()
    single = built.questions[0]
    indian = next(o for o in single.options.all() if o.text == "Indian")
    wrong[f"q{single.pk}"] = [str(indian.pk)]
    wrong[f"q{built.questions[3].pk}"] = ["  LONDON "]
    _take(built, "c@alpha.test", wrong)
    wrong[f"q{single.pk}"] = [str(indian.pk)]
    _take(built, "d@alpha.test", wrong)
    page = client.get(url).content.decode()
    assert "25% <span" in page and "(1 of 4)" in page
    assert "Indian <span" in page and "(2\u00d7)" in page  # most chosen wrong option
    assert "“london” <span" in page and "(3\u00d7)" in page  # most given wrong text
    assert ">4</dd>" in page  # attempts and students
    assert "Greenland" in page  # the wrong option of the multiple-choice question


def test_roster_links_to_each_students_attempts(school_a: Any) -> None:
    built = build_quiz(school_a.school, school_a.owner)
    sam = _take(built, "sam@alpha.test", built.wrong_answers())
    client = client_as(built.owner)
    roster = client.get(f"/manage/courses/{built.course.pk}/students/").content.decode()
    link = f"/manage/courses/quizzes/courses/{built.course.pk}/students/{sam.pk}/"
    assert link in roster and "Quiz attempts" in roster
    page = client.get(link).content.decode()
    assert "Quiz attempts of Sam Student" in page
    assert "0% (0/4)" in page and "Not passed" in page
    assert "Answers of attempt 1" in page
    assert "Wrong:</span>" in page and "Answer: Atlantic" in page and "“London”" in page


def test_roster_of_a_course_without_quizzes_has_no_link(school_a: Any) -> None:
    from courseplatform.courses import services as courses

    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = courses.create_course(school=school, actor=owner, title="Plain")
    roster = client_as(owner).get(f"/manage/courses/{course.pk}/students/").content.decode()
    assert "Quiz attempts" not in roster
    page = client_as(owner).get(f"/manage/courses/quizzes/courses/{course.pk}/students/{owner.pk}/")
    assert "This course has no quiz lessons" in page.content.decode()


def test_manager_pages_run_the_same_queries_for_few_and_many_attempts(school_a: Any) -> None:
    built = build_quiz(school_a.school, school_a.owner)
    client = client_as(built.owner)
    stats_url = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/stats/"
    sam = _take(built, "s0@alpha.test", built.wrong_answers())
    attempts_url = f"/manage/courses/quizzes/courses/{built.course.pk}/students/{sam.pk}/"
    small = (len(page_statements(client, stats_url)), len(page_statements(client, attempts_url)))
    for i in range(1, 6):
        _take(built, f"s{i}@alpha.test", built.right_answers())
    with school_context(built.school):
        for _ in range(2):
            attempt = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
            services.submit_attempt(
                school=built.school,
                student=sam,
                lesson=built.lesson,
                attempt_id=attempt.pk,
                answers=built.right_answers(),
            )
    large = (len(page_statements(client, stats_url)), len(page_statements(client, attempts_url)))
    assert small == large


def test_lesson_page_queries_do_not_grow_with_attempts(school_a: Any) -> None:
    built = build_quiz(school_a.school, school_a.owner)
    sam = _take(built, "sam@alpha.test", built.wrong_answers())
    client = client_as(sam)
    small = len(page_statements(client, built.lesson_url()))
    with school_context(built.school):
        for _ in range(3):
            attempt = services.start_attempt(school=built.school, student=sam, lesson=built.lesson)
            services.submit_attempt(
                school=built.school,
                student=sam,
                lesson=built.lesson,
                attempt_id=attempt.pk,
                answers=built.wrong_answers(),
            )
    assert len(page_statements(client, built.lesson_url())) == small
