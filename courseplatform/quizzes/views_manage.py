"""Quiz authoring in the lesson editor (/manage/courses/quizzes/...): settings,
questions (add, edit, move, delete), statistics and a student's attempts.

Every object comes from a ``*_for_manager`` selector (404 for a missing or another
school's id, 403 for a course the person may not manage); writes go through
``services``. Moving a question answers htmx with the re-rendered question list;
without JavaScript every form posts normally and redirects to the lesson editor.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.accounts.selectors import get_school_user
from courseplatform.courses import selectors as course_selectors
from courseplatform.courses.models import Lesson
from courseplatform.ops.forms import apply_errors
from courseplatform.tenancy.models import School

from . import panels, selectors, services
from .forms import (
    AddQuestionForm,
    QuestionForm,
    QuizSettingsForm,
    TooManyRows,
    option_rows,
    parse_options,
    posted_option_rows,
)
from .models import Question
from .services import QuizError


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    lesson = course_selectors.get_lesson_for_manager(
        school=_school(request), user=_user(request), lesson_id=lesson_id
    )
    if lesson.kind != Lesson.Kind.QUIZ:
        raise Http404("This lesson is not a quiz.")
    return lesson


def _editor_url(lesson: Lesson, anchor: str = "quiz") -> str:
    return reverse("courses_manage:lesson", args=[lesson.pk]) + f"#{anchor}"


@require_POST
@manager_required
def quiz_settings(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    form = QuizSettingsForm(request.POST, auto_id="id_quiz_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_quiz_settings(
                school=_school(request),
                actor=_user(request),
                lesson=lesson,
                pass_mark=data["pass_mark"],
                max_attempts=data["max_attempts"],
                shuffle_questions=data["shuffle_questions"],
                shuffle_options=data["shuffle_options"],
                reveal=data["reveal"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Quiz settings saved."))
            return redirect(_editor_url(lesson, "quiz-settings"))
    return render(
        request,
        "quizzes/manage/settings.html",
        {
            "nav_active": "courses",
            "lesson": lesson,
            "course": lesson.course,
            "settings_form": form,
        },
        status=400,
    )


def _render_question(
    request: HttpRequest,
    lesson: Lesson,
    form: QuestionForm,
    *,
    question: Question | None,
    rows: list[dict[str, object]],
    status: int = 200,
) -> HttpResponse:
    kind = form.kind
    return render(
        request,
        "quizzes/manage/question.html",
        {
            "nav_active": "courses",
            "lesson": lesson,
            "course": lesson.course,
            "question": question,
            "kind": kind,
            "kind_label": Question.Kind(kind).label,
            "form": form,
            "rows": rows,
            "row_count": len(rows),
            "max_options": services.MAX_OPTIONS,
            "action": reverse("quizzes_manage:question", args=[question.pk])
            if question
            else reverse("quizzes_manage:question_add", args=[lesson.pk]) + f"?kind={kind}",
        },
        status=status,
    )


def _save_question(
    request: HttpRequest, lesson: Lesson, kind: str, question: Question | None
) -> HttpResponse:
    form = QuestionForm(request.POST, kind=kind)
    rows = posted_option_rows(request.POST)
    if form.is_valid():
        try:
            options = parse_options(request.POST, kind, form)
            saved = services.save_question(
                school=_school(request),
                actor=_user(request),
                lesson=lesson,
                question=question,
                kind=kind,
                prompt_md=form.cleaned_data["prompt_md"],
                explanation_md=form.cleaned_data.get("explanation_md") or "",
                options=options,
                accepted_answers=form.accepted(),
                case_sensitive=bool(form.cleaned_data.get("case_sensitive")),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            if hasattr(exc, "error_dict") and "options" in exc.error_dict:
                form.add_error(None, exc.error_dict["options"])
        except (QuizError, TooManyRows) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Question saved."))
            return redirect(_editor_url(lesson, f"question-{saved.pk}"))
    return _render_question(request, lesson, form, question=question, rows=rows, status=400)


@manager_required
def question_add(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    picked = AddQuestionForm(request.GET)
    if not picked.is_valid():
        messages.error(request, _("Choose a question type."))
        return redirect(_editor_url(lesson))
    kind = picked.cleaned_data["kind"]
    if request.method == "POST":
        return _save_question(request, lesson, kind, None)
    form = QuestionForm(kind=kind)
    return _render_question(request, lesson, form, question=None, rows=option_rows(None))


@manager_required
def question_edit(request: HttpRequest, question_id: int) -> HttpResponse:
    question = selectors.get_question_for_manager(
        school=_school(request), user=_user(request), question_id=question_id
    )
    lesson = question.quiz.lesson
    if request.method == "POST":
        return _save_question(request, lesson, question.kind, question)
    correct = next((o.text for o in question.options.all() if o.is_correct), "")
    form = QuestionForm(
        kind=question.kind,
        initial={
            "prompt_md": question.prompt_md,
            "explanation_md": question.explanation_md,
            "accepted_answers": "\n".join(question.accepted_answers),
            "case_sensitive": question.case_sensitive,
            "true_false": correct.lower(),
        },
    )
    return _render_question(request, lesson, form, question=question, rows=option_rows(question))


@require_POST
@manager_required
def question_move(request: HttpRequest, question_id: int) -> HttpResponse:
    question = selectors.get_question_for_manager(
        school=_school(request), user=_user(request), question_id=question_id
    )
    lesson = question.quiz.lesson
    direction = request.POST.get("direction", "")
    try:
        moved = services.move_question(
            school=_school(request), actor=_user(request), question=question, direction=direction
        )
        status = _("Question moved.") if moved else _("The question is already there.")
    except QuizError as exc:
        status = str(exc)
    if request.headers.get("HX-Request") == "true":
        response = render(
            request,
            "quizzes/manage/_questions.html",
            panels.questions_context(_school(request), lesson, question.quiz),
        )
        response["HX-Trigger"] = json.dumps({"authoringStatus": status})
        return response
    messages.info(request, status)
    return redirect(_editor_url(lesson, f"question-{question.pk}"))


@manager_required
def question_delete(request: HttpRequest, question_id: int) -> HttpResponse:
    question = selectors.get_question_for_manager(
        school=_school(request), user=_user(request), question_id=question_id
    )
    lesson = question.quiz.lesson
    if request.method == "POST":
        services.delete_question(school=_school(request), actor=_user(request), question=question)
        messages.success(request, _("Question deleted."))
        return redirect(_editor_url(lesson, "questions"))
    return render(
        request,
        "courses/manage/confirm_delete.html",
        {
            "nav_active": "courses",
            "course": lesson.course,
            "heading": "Delete this question?",
            "consequences": [
                "the question, its options and explanation",
                "its answers in students' earlier attempts stay, but no longer count "
                "in the statistics",
            ],
            "button": "Delete question",
            "cancel_url": _editor_url(lesson, f"question-{question.pk}"),
        },
    )


@require_GET
@manager_required
def stats(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _lesson(request, lesson_id)
    quiz = selectors.quiz_for_lesson(school=_school(request), lesson=lesson)
    summary = selectors.quiz_stats(school=_school(request), quiz=quiz) if quiz else None
    return render(
        request,
        "quizzes/manage/stats.html",
        {
            "nav_active": "courses",
            "lesson": lesson,
            "course": lesson.course,
            "quiz": quiz,
            "summary": summary,
            "rows": [
                (item, panels.html(item.question.prompt_html))
                for item in (summary.questions if summary else [])
            ],
        },
    )


@require_GET
@manager_required
def student_attempts(request: HttpRequest, course_id: int, student_id: int) -> HttpResponse:
    school = _school(request)
    course = course_selectors.get_course_for_manager(
        school=school, user=_user(request), course_id=course_id
    )
    try:
        student = get_school_user(school=school, user_id=student_id)
    except User.DoesNotExist as exc:
        raise Http404("No such student.") from exc
    lessons = selectors.student_attempts(school=school, course=course, student=student)
    questions = selectors.course_questions(school=school, course=course)
    # Each submitted attempt with its answers, right or wrong, and the right ones.
    answers = {
        attempt.pk: panels.shown_questions(
            attempt, questions.get(attempt.quiz_id, []), review=True, reveal=True
        )
        for item in lessons
        for attempt in item.attempts
        if attempt.is_submitted
    }
    return render(
        request,
        "quizzes/manage/student_attempts.html",
        {
            "nav_active": "courses",
            "course": course,
            "student": student,
            "lessons": [
                (item, [(attempt, answers.get(attempt.pk, [])) for attempt in item.attempts])
                for item in lessons
            ],
        },
    )
