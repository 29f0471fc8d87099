"""What the quizzes app renders into pages of ``courses`` (registered in ``apps.py``
through ``courses.lesson_kinds``): the quiz on the lesson page, the quiz editor in
the lesson editor and the "Quiz attempts" link on the roster.

The lesson page shows correct answers and explanations only in the review of a
submitted attempt, and only when the quiz's settings allow: before submission the
page holds the prompts and option texts, never which option is right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from courseplatform.courses.models import Course, Lesson
from courseplatform.sanitize.markdown import sanitize_html

from . import selectors
from .forms import AddQuestionForm, QuizSettingsForm
from .models import Attempt, Option, Question


def html(stored: str) -> SafeString:
    # Sanitised on save; cleaned again on render (a row edited behind our back).
    return mark_safe(sanitize_html(stored)) if stored else SafeString("")  # noqa: S308


@dataclass
class ShownQuestion:
    """A question as one attempt shows it: the attempt's order of options and, in a
    review, the student's answer and (when allowed) the right one."""

    question: Question
    number: int
    options: list[Option]
    prompt: SafeString
    chosen: list[int]
    text_answer: str = ""
    right: bool | None = None
    explanation: str = ""  # sanitised HTML (marked safe) or ""

    @property
    def field_name(self) -> str:
        return f"q{self.question.pk}"

    @property
    def input_type(self) -> str:
        return "checkbox" if self.question.kind == Question.Kind.MULTIPLE else "radio"


def shown_questions(
    attempt: Attempt, questions: list[Question], *, review: bool, reveal: bool
) -> list[ShownQuestion]:
    by_id = {q.pk: q for q in questions}
    shown: list[ShownQuestion] = []
    for question_id, option_ids in attempt.layout:
        question = by_id.get(question_id)
        if question is None:
            continue
        options_by_id = {o.pk: o for o in question.options.all()}
        options = [options_by_id[i] for i in option_ids if i in options_by_id]
        # Options added after the attempt started come last.
        options += [o for o in question.options.all() if o.pk not in option_ids]
        answer = attempt.answers.get(str(question_id)) if review else None
        shown.append(
            ShownQuestion(
                question=question,
                number=len(shown) + 1,
                options=options,
                prompt=html(question.prompt_html),
                chosen=answer if isinstance(answer, list) else [],
                text_answer=answer if isinstance(answer, str) else "",
                right=attempt.results.get(str(question_id)) if review else None,
                explanation=html(question.explanation_html)
                if review and reveal
                else SafeString(""),
            )
        )
    return shown


def lesson_page_panel(
    request: HttpRequest, course: Course, lesson: Lesson, enrolled: bool, is_manager: bool
) -> SafeString:
    school = request.school  # type: ignore[attr-defined]
    quiz = selectors.quiz_for_lesson(school=school, lesson=lesson)
    questions = selectors.questions_of(school=school, quiz=quiz)
    course_slug = course.slug  # the cached course: ``lesson.course`` would be a query
    context: dict[str, object] = {
        "lesson": lesson,
        "quiz": quiz,
        "question_count": len(questions),
        "enrolled": enrolled,
        "is_manager": is_manager,
        "start_url": reverse("quizzes:start", args=[course_slug, lesson.pk]),
    }
    if enrolled and quiz is not None:
        standing = selectors.student_quiz(school=school, quiz=quiz, student=request.user)  # type: ignore[arg-type]
        context["standing"] = standing
        current = standing.open_attempt
        if current is not None:
            context["attempt"] = current
            context["submit_url"] = reverse(
                "quizzes:submit", args=[course_slug, lesson.pk, current.pk]
            )
            context["shown"] = shown_questions(current, questions, review=False, reveal=False)
        elif standing.latest is not None:
            reveal = standing.shows_answers
            context["review"] = standing.latest
            context["reveal"] = reveal
            context["shown"] = shown_questions(
                standing.latest, questions, review=True, reveal=reveal
            )
    if is_manager:
        context["editor_url"] = reverse("courses_manage:lesson", args=[lesson.pk]) + "#quiz"
        context["stats_url"] = reverse("quizzes_manage:stats", args=[lesson.pk])
    return SafeString(render_to_string("quizzes/_lesson_quiz.html", context, request=request))


def editor_panel(
    request: HttpRequest,
    lesson: Lesson,
    *,
    settings_form: QuizSettingsForm | None = None,
) -> SafeString:
    school = request.school  # type: ignore[attr-defined]
    quiz = selectors.quiz_for_lesson(school=school, lesson=lesson)
    context = {
        "lesson": lesson,
        "quiz": quiz,
        "settings_form": settings_form or QuizSettingsForm.for_quiz(quiz),
        "add_form": AddQuestionForm(auto_id="id_new_question_%s"),
        **questions_context(school, lesson, quiz),
    }
    return SafeString(render_to_string("quizzes/manage/_editor.html", context, request=request))


def questions_context(school: object, lesson: Lesson, quiz: object) -> dict[str, object]:
    questions = selectors.questions_of(school=school, quiz=quiz)  # type: ignore[arg-type]
    return {
        "lesson": lesson,
        "questions": [(q, html(q.prompt_html)) for q in questions],
        "question_total": len(questions),
    }


def roster_links(course: Course) -> list[tuple[str, Callable[[int], str]]]:
    if not selectors.course_has_quizzes(course=course):
        return []
    prefix = reverse("quizzes_manage:student_attempts", args=[course.pk, 0]).removesuffix("0/")
    return [(_("Quiz attempts"), lambda student_id: f"{prefix}{student_id}/")]
