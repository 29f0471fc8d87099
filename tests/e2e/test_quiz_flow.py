"""A student passes a quiz lesson in Chromium, and the course is then complete.

Set up through the services (committed rows, a fresh slug per run): a published course
with one text lesson and one quiz lesson of three questions (single choice, multiple
choice, short text), pass mark 60 %, two attempts; a student enrolled in it. The owner
opens the quiz editor in the lesson editor (screenshots). The student marks the text
lesson complete (which moves on to the quiz), starts the quiz, answers with the
keyboard-reachable labelled inputs, submits, and sees the result with the correct
answers and explanations, best score and attempts remaining, and the course at 100 %.
Screenshots at 1280 px and 375 px (no sideways scrolling on the phone).

Steps are separate functions so a later flow (e.g. the certificate download after
the course is complete) can continue from ``student_passes_the_quiz``.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_course_flow import desktop_and_phone, log_in
from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def course(committed_db: None, live_app: LiveApp) -> Any:
    """A school with a published two-lesson course (text, then quiz) and an enrolled student."""
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import services as courses
    from courseplatform.onboarding.services import create_school
    from courseplatform.quizzes import services as quizzes
    from courseplatform.quizzes.services import OptionInput
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-quiz-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Star Charts School",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        student = register_user(
            school=school, email=f"sam@{slug}.test", password=PASSWORD, full_name="Sam Student"
        )
        course = courses.create_course(school=school, actor=owner, title="Night Sky Basics")
        section = courses.add_section(school=school, actor=owner, course=course, title="Start")
        reading = courses.add_lesson(
            school=school, actor=owner, section=section, title="Finding the Pole Star"
        )
        quiz = courses.add_lesson(
            school=school, actor=owner, section=section, title="Check your sky", kind="quiz"
        )
        quizzes.update_quiz_settings(
            school=school, actor=owner, lesson=quiz, pass_mark=60, max_attempts=2,
            shuffle_questions=False, shuffle_options=False, reveal="submission",
        )  # fmt: skip
        quizzes.save_question(
            school=school, actor=owner, lesson=quiz, kind="single",
            prompt_md="Which constellation points to the **Pole Star**?",
            explanation_md="Follow the two pointer stars of the Big Dipper.",
            options=[OptionInput("Orion", False), OptionInput("Big Dipper", True),
                     OptionInput("Cassiopeia's Chair", False)],
        )  # fmt: skip
        quizzes.save_question(
            school=school, actor=owner, lesson=quiz, kind="multiple",
            prompt_md="Which of these are planets?",
            options=[OptionInput("Mars", True), OptionInput("Sirius", False),
                     OptionInput("Jupiter", True)],
        )  # fmt: skip
        quizzes.save_question(
            school=school, actor=owner, lesson=quiz, kind="text",
            prompt_md="What is the Pole Star's other name?", accepted_answers=["Polaris"],
        )  # fmt: skip
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        courses.enroll_student(
            school=school, actor=owner, course=course, student=student, source="manual"
        )
        course.refresh_from_db()
    return SimpleNamespace(
        host=f"{slug}.",
        owner=owner,
        student=student,
        course=course,
        reading=reading,
        quiz=quiz,
        reading_path=f"/courses/{course.slug}/lessons/{reading.pk}/",
        quiz_path=f"/courses/{course.slug}/lessons/{quiz.pk}/",
    )


def owner_sees_the_quiz_editor(page: Page, live_app: LiveApp, course: Any) -> None:
    log_in(page, live_app, course.host, course.owner.email, "/manage/")
    page.goto(live_app.url(course.host, f"/manage/courses/lessons/{course.quiz.pk}/"))
    editor = page.locator("section#quiz")
    expect(editor.get_by_label("Pass mark (%)")).to_have_value("60")
    expect(editor.locator("#quiz-questions > ol > li")).to_have_count(3)
    desktop_and_phone(page, "quiz-editor")


def student_passes_the_quiz(page: Page, live_app: LiveApp, course: Any) -> None:
    """From the reading lesson to a passed quiz; the course ends at 100 %."""
    log_in(page, live_app, course.host, course.student.email, "/")
    page.goto(live_app.url(course.host, course.reading_path))
    page.get_by_role("button", name="Mark complete").click()
    page.wait_for_url(live_app.url(course.host, course.quiz_path))

    quiz = page.locator("section#quiz")
    expect(quiz).to_contain_text("3 questions · pass mark 60%")
    expect(quiz).to_contain_text("Not attempted")
    expect(page.get_by_role("button", name="Mark complete")).to_have_count(0)
    quiz.get_by_role("button", name="Start the quiz").click()

    first = quiz.get_by_role("group", name=re.compile("Question 1 of 3"))
    expect(first).to_be_visible()
    desktop_and_phone(page, "quiz-questions")
    # Answer with the keyboard: focus the option through its label, Space selects it.
    first.get_by_label("Big Dipper").focus()
    page.keyboard.press("Space")
    expect(first.get_by_label("Big Dipper")).to_be_checked()
    second = quiz.get_by_role("group", name=re.compile("Question 2 of 3"))
    second.get_by_label("Mars").check()
    second.get_by_label("Jupiter").check()
    third = quiz.get_by_role("group", name=re.compile("Question 3 of 3"))
    third.get_by_label("Your answer").fill("  polaris ")
    quiz.get_by_role("button", name="Submit answers").click()

    expect(page.get_by_text("You passed with 100%. The lesson is marked complete.")).to_be_visible()
    quiz = page.locator("section#quiz")
    expect(quiz).to_contain_text("Attempt 1: 100% (3 of 3 right) · passed")
    expect(quiz).to_contain_text("Follow the two pointer stars of the Big Dipper.")
    expect(quiz).to_contain_text("1 of 2")  # attempts remaining
    expect(quiz).to_contain_text("Passed")
    expect(page.locator("article")).to_contain_text("You completed every lesson of this course.")
    desktop_and_phone(page, "quiz-passed")


def test_student_passes_a_quiz_and_completes_the_course(
    live_app: LiveApp, course: Any, new_page: Any
) -> None:
    owner_sees_the_quiz_editor(new_page(), live_app, course)
    page = new_page()
    student_passes_the_quiz(page, live_app, course)
    page.goto(live_app.url(course.host, "/my/"))
    expect(page.locator("main li", has_text="Night Sky Basics")).to_contain_text("100%")
