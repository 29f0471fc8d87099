"""The quiz pages in Chromium, in English and Arabic: axe-core finds no WCAG 2.2 A/AA
violation and Arabic is right-to-left.

Student side: a quiz lesson before the first attempt, during an attempt (the questions)
and after submitting (the result with the review). Management: the quiz editor in the
lesson editor, a question's edit page, a new question, the statistics and one
student's attempts. Screenshots: test-output/screenshots/ar-quiz-*.png.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from courseplatform.video.tests.a11y_support import (
    PASSWORD,
    check_arabic,
    check_english,
    log_in,
    use_language,
)
from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e


@pytest.fixture
def quiz_school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.onboarding.services import create_school
    from courseplatform.quizzes.tests.support import build_quiz, student

    slug = f"a11y-quiz-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Atlas Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    built = build_quiz(created.school, created.owner, reveal="submission")
    learner = student(created.school, f"sam@{slug}.test", built)
    return SimpleNamespace(host=f"{slug}.", built=built, student=learner)


def _answer_and_submit(page: Page) -> None:
    """Answers every question from the keyboard-reachable labelled inputs."""
    form = page.locator("section#quiz form").first
    for fieldset in form.locator("fieldset").all():
        text = fieldset.locator('input[type="text"]')
        if text.count():
            text.fill("Paris")
        else:
            fieldset.locator("input").first.check()
    form.locator('button[type="submit"]').click()


def test_quiz_lesson_is_accessible_before_during_and_after_an_attempt(
    live_app: LiveApp, quiz_school: Any, new_page: Callable[[], Page]
) -> None:
    qs = quiz_school
    path = qs.built.lesson_url()
    page = new_page()
    log_in(page, live_app, qs.host, qs.student.email, path)
    quiz = page.locator("section#quiz")
    for language, check in (("en", check_english), ("ar", check_arabic)):
        use_language(page, live_app, qs.host, language)
        page.goto(live_app.url(qs.host, path))
        check(page, "quiz-lesson-start")
        quiz.locator('form button[type="submit"]').click()
        expect(quiz.locator("fieldset")).to_have_count(4)
        check(page, "quiz-lesson-attempt")
        _answer_and_submit(page)
        expect(quiz.locator('[role="status"]')).to_be_visible()
        check(page, "quiz-lesson-result")
    # The result in Arabic names the attempt and the true/false options are translated.
    expect(quiz.locator('[role="status"]')).to_contain_text("المحاولة 2")
    expect(quiz).to_contain_text("صحيح")
    expect(quiz).not_to_contain_text("Your choice")


def test_quiz_management_pages_are_accessible_in_english_and_arabic(
    live_app: LiveApp, quiz_school: Any, new_page: Callable[[], Page]
) -> None:
    from courseplatform.quizzes import services
    from courseplatform.tenancy.rls import school_context

    qs = quiz_school
    built = qs.built
    with school_context(built.school):  # one submitted attempt for the statistics
        attempt = services.start_attempt(
            school=built.school, student=qs.student, lesson=built.lesson
        )
        services.submit_attempt(
            school=built.school,
            student=qs.student,
            lesson=built.lesson,
            attempt_id=attempt.pk,
            answers=built.wrong_answers(),
        )
    editor = f"/manage/courses/lessons/{built.lesson.pk}/"
    pages = [
        (editor, "quiz-editor"),
        (f"/manage/courses/quizzes/questions/{built.questions[0].pk}/", "quiz-question"),
        (
            f"/manage/courses/quizzes/lessons/{built.lesson.pk}/questions/new/?kind=multiple",
            "quiz-question-new",
        ),
        (f"/manage/courses/quizzes/lessons/{built.lesson.pk}/stats/", "quiz-stats"),
        (
            f"/manage/courses/quizzes/courses/{built.course.pk}/students/{qs.student.pk}/",
            "quiz-attempts",
        ),
    ]
    page = new_page()
    log_in(page, live_app, qs.host, built.owner.email, editor)
    for path, name in pages:
        page.goto(live_app.url(qs.host, path))
        check_english(page, name)
    use_language(page, live_app, qs.host, "ar")
    for path, name in pages:
        page.goto(live_app.url(qs.host, path))
        if name == "quiz-attempts":
            page.locator("main section details summary").first.click()
        check_arabic(page, name)
    expect(page.locator("h1")).to_contain_text("محاولات الاختبار")
