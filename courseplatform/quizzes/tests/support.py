"""Building blocks of the quiz tests: a published course with a quiz lesson of four
questions (one per type), an enrolled student and logged-in clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Lesson
from courseplatform.quizzes import services
from courseplatform.quizzes.models import Question, Quiz
from courseplatform.quizzes.services import OptionInput
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD, host_of


@dataclass
class Built:
    school: Any
    owner: User
    course: Course
    lesson: Lesson  # the quiz
    text_lesson: Lesson
    quiz: Quiz
    questions: list[Question]  # single, multiple, true/false, text

    def lesson_url(self) -> str:
        return f"/courses/{self.course.slug}/lessons/{self.lesson.pk}/"

    def start_url(self) -> str:
        return f"{self.lesson_url()}quiz/start/"

    def submit_url(self, attempt_id: int) -> str:
        return f"{self.lesson_url()}quiz/attempts/{attempt_id}/"

    def right_answers(self) -> dict[str, list[str]]:
        """The form data that answers every question right."""
        data: dict[str, list[str]] = {}
        for question in self.questions:
            if question.kind == Question.Kind.TEXT:
                data[f"q{question.pk}"] = ["  paris "]
            else:
                data[f"q{question.pk}"] = [
                    str(o.pk) for o in question.options.all() if o.is_correct
                ]
        return data

    def wrong_answers(self) -> dict[str, list[str]]:
        data: dict[str, list[str]] = {}
        for question in self.questions:
            if question.kind == Question.Kind.TEXT:
                data[f"q{question.pk}"] = ["London"]
            else:
                wrong = [o for o in question.options.all() if not o.is_correct]
                data[f"q{question.pk}"] = [str(wrong[0].pk)]
        return data


def build_quiz(school: Any, owner: User, *, title: str = "Geography", **settings: Any) -> Built:
    with school_context(school):
        course = courses.create_course(school=school, actor=owner, title=title)
        section = courses.add_section(school=school, actor=owner, course=course, title="Part 1")
        text_lesson = courses.add_lesson(
            school=school, actor=owner, section=section, title="Reading"
        )
        lesson = courses.add_lesson(
            school=school, actor=owner, section=section, title="Check yourself", kind="quiz"
        )
        questions = [
            services.save_question(
                school=school,
                actor=owner,
                lesson=lesson,
                kind="single",
                prompt_md="Which is the **largest** ocean?",
                explanation_md="The Pacific covers a third of the Earth.",
                options=[
                    OptionInput("Atlantic", False),
                    OptionInput("Pacific", True),
                    OptionInput("Indian", False),
                ],
            ),
            services.save_question(
                school=school,
                actor=owner,
                lesson=lesson,
                kind="multiple",
                prompt_md="Which are continents?",
                options=[
                    OptionInput("Africa", True),
                    OptionInput("Greenland", False),
                    OptionInput("Asia", True),
                ],
            ),
            services.save_question(
                school=school,
                actor=owner,
                lesson=lesson,
                kind="true_false",
                prompt_md="The Nile flows north.",
                options=[OptionInput("True", True), OptionInput("False", False)],
            ),
            services.save_question(
                school=school,
                actor=owner,
                lesson=lesson,
                kind="text",
                prompt_md="The capital of France?",
                accepted_answers=["Paris"],
            ),
        ]
        quiz = Quiz.objects.get(lesson=lesson)
        if settings:
            values = {
                "pass_mark": quiz.pass_mark,
                "max_attempts": quiz.max_attempts,
                "shuffle_questions": quiz.shuffle_questions,
                "shuffle_options": quiz.shuffle_options,
                "reveal": quiz.reveal,
                **settings,
            }
            quiz = services.update_quiz_settings(
                school=school, actor=owner, lesson=lesson, **values
            )
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        course.refresh_from_db()
        lesson.refresh_from_db()
        questions = list(Question.objects.filter(quiz=quiz).prefetch_related("options"))
    return Built(school, owner, course, lesson, text_lesson, quiz, questions)


def student(school: Any, email: str, built: Built | None = None) -> User:
    with school_context(school):
        user = User.objects.create_user(
            email, PASSWORD, school=school, full_name="Sam Student", role="student"
        )
        if built is not None:
            courses.enroll_student(
                school=school, actor=built.owner, course=built.course, student=user, source="manual"
            )
    return user


def client_as(user: User, host: str | None = None) -> Client:
    client = Client(HTTP_HOST=host or host_of(user.school))
    with school_context(user.school_id):
        client.force_login(user)
    return client
