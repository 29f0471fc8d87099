"""Writes on quizzes: authoring (settings, questions, options) and taking (start,
submit). Keyword-only, school first, then the acting user; ``accounts.permissions``
first (another school's object: ``Http404``; a course the actor may not manage:
``PermissionDenied``). A refused request is a ``ValidationError`` (by field) or a
``QuizError`` (a message for the person), raised before anything is written.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses import drip
from courseplatform.courses.models import Enrollment, Lesson, Section
from courseplatform.courses.services import set_lesson_completed
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sanitize.markdown import external_image_problem, markdown_to_html
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import school_zone

from . import grading
from .models import ANSWER_TEXT_MAX, OPTION_TEXT_MAX, Attempt, Option, Question, Quiz

MAX_OPTIONS = 12
MAX_ACCEPTED_ANSWERS = 20
MAX_QUESTIONS = 100
MAX_PROMPT_CHARS = 20_000
TRUE_FALSE = ("True", "False")


class QuizError(Exception):
    """A request that cannot be honoured; the message is safe to show."""


def _require_quiz_lesson(school: School, actor: User, lesson: Lesson) -> None:
    permissions.require_in_school(school, lesson)
    permissions.require_course_manager(school, actor, lesson.course)
    if lesson.kind != Lesson.Kind.QUIZ:
        raise QuizError(_("This lesson is not a quiz: change its type to Quiz first."))


def _markdown(source: str, field: str, *, required: bool = False) -> str:
    source = source or ""
    if required and not source.strip():
        raise ValidationError({field: _("This field is required.")})
    if len(source) > MAX_PROMPT_CHARS:
        raise ValidationError(
            {field: _("Use at most %(count)s characters.") % {"count": MAX_PROMPT_CHARS}}
        )
    problem = external_image_problem(source)
    if problem:
        raise ValidationError({field: problem})
    return markdown_to_html(source)


# --- settings ---------------------------------------------------------------------------


def ensure_quiz(*, school: School, actor: User, lesson: Lesson) -> Quiz:
    """The lesson's quiz, created with the default settings on first use."""
    _require_quiz_lesson(school, actor, lesson)
    try:
        with transaction.atomic():
            quiz, _ = Quiz.objects.get_or_create(
                school=school, lesson=lesson, defaults={"course_id": lesson.course_id}
            )
    except IntegrityError:  # created by a concurrent request
        quiz = Quiz.objects.get(school=school, lesson=lesson)
    return quiz


SETTINGS_FIELDS = ("pass_mark", "max_attempts", "shuffle_questions", "shuffle_options", "reveal")


def update_quiz_settings(
    *,
    school: School,
    actor: User,
    lesson: Lesson,
    pass_mark: int,
    max_attempts: int | None,
    shuffle_questions: bool,
    shuffle_options: bool,
    reveal: str,
) -> Quiz:
    """Change the quiz's settings; the change (before and after) is audited."""
    _require_quiz_lesson(school, actor, lesson)
    if not isinstance(pass_mark, int) or not 0 <= pass_mark <= 100:
        raise ValidationError({"pass_mark": _("Use a pass mark between 0 and 100 percent.")})
    if max_attempts is not None and not 1 <= max_attempts <= 1000:
        raise ValidationError(
            {"max_attempts": _("Allow between 1 and 1000 attempts, or leave empty for unlimited.")}
        )
    if reveal not in Quiz.Reveal.values:
        raise ValidationError({"reveal": _("Choose when students see the correct answers.")})
    quiz = ensure_quiz(school=school, actor=actor, lesson=lesson)
    wanted: dict[str, Any] = {
        "pass_mark": pass_mark,
        "max_attempts": max_attempts,
        "shuffle_questions": bool(shuffle_questions),
        "shuffle_options": bool(shuffle_options),
        "reveal": reveal,
    }
    with transaction.atomic():
        quiz = Quiz.objects.select_for_update().get(pk=quiz.pk, school=school)
        changes = {
            name: [getattr(quiz, name), value]
            for name, value in wanted.items()
            if getattr(quiz, name) != value
        }
        if not changes:
            return quiz
        for name, value in wanted.items():
            setattr(quiz, name, value)
        quiz.save()
        record_audit(
            school=school,
            actor=actor,
            action="quiz.settings_changed",
            target=quiz,
            data={"lesson": lesson.pk, "changes": changes},
        )
    return quiz


# --- questions --------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionInput:
    """One option row of the question form: ``id`` None for a new one."""

    text: str
    is_correct: bool
    id: int | None = None


def _clean_options(kind: str, options: Sequence[OptionInput]) -> list[OptionInput]:
    if kind == Question.Kind.TRUE_FALSE:
        if len(options) != 2 or sum(1 for o in options if o.is_correct) != 1:
            raise ValidationError({"options": _("Choose whether the statement is true or false.")})
        return list(options)
    if len(options) > MAX_OPTIONS:
        raise ValidationError(
            {
                "options": _("A question can have at most %(count)s options; remove some.")
                % {"count": MAX_OPTIONS}
            }
        )
    cleaned = []
    for option in options:
        text = (option.text or "").strip()
        if not text:
            continue
        if len(text) > OPTION_TEXT_MAX:
            raise ValidationError(
                {
                    "options": _("Keep each option under %(count)s characters.")
                    % {"count": OPTION_TEXT_MAX}
                }
            )
        validate_single_line(text, field="options")
        cleaned.append(OptionInput(text, bool(option.is_correct), option.id))
    if len(cleaned) < 2:
        raise ValidationError({"options": _("Give at least two options.")})
    if len({o.text for o in cleaned}) != len(cleaned):
        raise ValidationError({"options": _("Two options have the same text.")})
    correct_count = sum(1 for o in cleaned if o.is_correct)
    if correct_count == 0:
        raise ValidationError({"options": _("Mark the correct option: none is marked correct.")})
    if kind == Question.Kind.SINGLE and correct_count != 1:
        raise ValidationError(
            {"options": _("A single-choice question has exactly one correct option.")}
        )
    return cleaned


def _clean_accepted(answers: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(a.split()) for a in answers if a and a.strip()))
    if not cleaned:
        raise ValidationError({"accepted_answers": _("Give at least one accepted answer.")})
    if len(cleaned) > MAX_ACCEPTED_ANSWERS:
        raise ValidationError(
            {
                "accepted_answers": _("Give at most %(count)s accepted answers.")
                % {"count": MAX_ACCEPTED_ANSWERS}
            }
        )
    if any(len(a) > ANSWER_TEXT_MAX for a in cleaned):
        raise ValidationError(
            {
                "accepted_answers": _("Keep each answer under %(count)s characters.")
                % {"count": ANSWER_TEXT_MAX}
            }
        )
    for answer in cleaned:
        validate_single_line(answer, field="accepted_answers")
    return cleaned


def save_question(
    *,
    school: School,
    actor: User,
    lesson: Lesson,
    question: Question | None = None,
    kind: str,
    prompt_md: str,
    explanation_md: str = "",
    options: Sequence[OptionInput] = (),
    accepted_answers: Sequence[str] = (),
    case_sensitive: bool = False,
) -> Question:
    """Add a question to the lesson's quiz (``question`` None) or replace one's content
    and options. Options keep their ids when edited (attempts and statistics name
    them); options left out are deleted. Everything is checked before any write."""
    _require_quiz_lesson(school, actor, lesson)
    if question is not None:
        permissions.require_in_school(school, question)
        if question.quiz.lesson_id != lesson.pk:
            raise QuizError(_("This question belongs to another quiz."))
        kind = question.kind  # the kind is chosen when the question is added
    if kind not in Question.Kind.values:
        raise ValidationError({"kind": _("Choose a question type.")})
    prompt_html = _markdown(prompt_md, "prompt_md", required=True)
    explanation_html = _markdown(explanation_md, "explanation_md") if explanation_md else ""
    cleaned_options: list[OptionInput] = []
    accepted: list[str] = []
    if kind == Question.Kind.TEXT:
        accepted = _clean_accepted(accepted_answers)
    else:
        cleaned_options = _clean_options(kind, options)
    known: set[int] = set()
    if question is not None:
        known = set(question.options.values_list("pk", flat=True))
    if any(o.id is not None and o.id not in known for o in cleaned_options):
        raise QuizError(_("The form names an option that is not part of this question."))
    quiz = ensure_quiz(school=school, actor=actor, lesson=lesson)
    with transaction.atomic():
        quiz = Quiz.objects.select_for_update().get(pk=quiz.pk, school=school)
        if question is None:
            count = Question.objects.filter(school=school, quiz=quiz).count()
            if count >= MAX_QUESTIONS:
                raise QuizError(
                    _("A quiz can have at most %(count)s questions.") % {"count": MAX_QUESTIONS}
                )
            top = Question.objects.filter(school=school, quiz=quiz).aggregate(m=Max("position"))
            question = Question(school=school, quiz=quiz, kind=kind, position=(top["m"] or 0) + 1)
        question.prompt_md = prompt_md
        question.prompt_html = prompt_html
        question.explanation_md = explanation_md or ""
        question.explanation_html = explanation_html
        question.accepted_answers = accepted
        question.case_sensitive = bool(case_sensitive) and kind == Question.Kind.TEXT
        question.save()
        kept = {o.id for o in cleaned_options if o.id is not None}
        Option.objects.filter(school=school, question=question).exclude(pk__in=kept).delete()
        for position, option in enumerate(cleaned_options, start=1):
            if option.id is None:
                Option.objects.create(
                    school=school,
                    question=question,
                    text=option.text,
                    is_correct=option.is_correct,
                    position=position,
                )
            else:
                Option.objects.filter(school=school, question=question, pk=option.id).update(
                    text=option.text, is_correct=option.is_correct, position=position
                )
    return question


def delete_question(*, school: School, actor: User, question: Question) -> None:
    permissions.require_in_school(school, question)
    _require_quiz_lesson(school, actor, question.quiz.lesson)
    question.delete()


def move_question(*, school: School, actor: User, question: Question, direction: str) -> bool:
    """Swap the question with its neighbour above (``up``) or below (``down``);
    False when it is already first or last."""
    permissions.require_in_school(school, question)
    _require_quiz_lesson(school, actor, question.quiz.lesson)
    if direction not in ("up", "down"):
        raise QuizError(_("Move a question up or down."))
    with transaction.atomic():
        Quiz.objects.select_for_update().filter(pk=question.quiz_id, school=school).get()
        ids = list(
            Question.objects.filter(school=school, quiz_id=question.quiz_id).values_list(
                "pk", flat=True
            )
        )
        index = ids.index(question.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ids):
            return False
        ids[index], ids[other] = ids[other], ids[index]
        for position, pk in enumerate(ids, start=1):
            Question.objects.filter(school=school, pk=pk).update(position=position)
    return True


# --- taking -----------------------------------------------------------------------------


def _layout(quiz: Quiz) -> list[list[Any]]:
    questions = list(
        Question.objects.filter(school=quiz.school_id, quiz=quiz).prefetch_related("options")
    )
    rng = random.SystemRandom()
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    layout = []
    for question in questions:
        option_ids = [option.pk for option in question.options.all()]
        if quiz.shuffle_options and question.kind != Question.Kind.TRUE_FALSE:
            rng.shuffle(option_ids)
        layout.append([question.pk, option_ids])
    return layout


def start_attempt(*, school: School, student: User, lesson: Lesson) -> Attempt:
    """The student's attempt in progress, or a new one when attempts remain.

    The student's enrolment row is locked for the check and the insert, so two
    simultaneous starts make one attempt (the partial unique constraint
    ``quiz_attempt_one_open`` backs this up)."""
    permissions.require_in_school(school, lesson, student)
    if lesson.kind != Lesson.Kind.QUIZ:
        raise QuizError(_("This lesson is not a quiz."))
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update()
            .filter(school=school, student=student, course_id=lesson.course_id)
            .first()
        )
        if enrollment is None:
            raise PermissionDenied(_("Enrol in this course to take the quiz."))
        if not lesson.is_preview:
            # The drip schedule (courses/drip.py) may keep the lesson's section closed.
            release = drip.section_release(
                Section.objects.get(school=school, pk=lesson.section_id),
                enrolled_at=enrollment.created_at,
                now=timezone.now(),
                zone=school_zone(school),
            )
            if release.locked:
                raise QuizError(
                    _("This quiz is not open yet. %(release)s.") % {"release": release.label}
                )
        quiz = Quiz.objects.filter(school=school, lesson=lesson).first()
        if quiz is None or not Question.objects.filter(school=school, quiz=quiz).exists():
            raise QuizError(_("This quiz has no questions yet."))
        attempts = Attempt.objects.filter(school=school, quiz=quiz, student=student)
        open_attempt = attempts.filter(submitted_at__isnull=True).first()
        if open_attempt is not None:
            return open_attempt
        used = attempts.count()
        if quiz.max_attempts is not None and used >= quiz.max_attempts:
            raise QuizError(
                ngettext(
                    "You have used the %(count)s attempt allowed for this quiz.",
                    "You have used all %(count)s attempts allowed for this quiz.",
                    quiz.max_attempts,
                )
                % {"count": quiz.max_attempts}
            )
        return Attempt.objects.create(
            school=school, quiz=quiz, student=student, number=used + 1, layout=_layout(quiz)
        )


@dataclass(frozen=True)
class Submitted:
    attempt: Attempt
    # True: the attempt had been submitted before; nothing was changed.
    replayed: bool


def _parse_answers(
    layout: list[list[Any]], questions: Mapping[int, Question], answers: Mapping[str, list[str]]
) -> dict[str, grading.Answer]:
    """The posted answers (``q<question id>`` → values) checked against the attempt's
    own questions and options; anything else is refused."""
    parsed: dict[str, grading.Answer] = {}
    for question_id, option_ids in layout:
        question = questions.get(question_id)
        if question is None:  # deleted since the attempt started: not graded
            continue
        values = [v for v in answers.get(f"q{question_id}", []) if v != ""]
        if question.kind == Question.Kind.TEXT:
            if len(values) > 1:
                raise QuizError(_("Give one answer per question."))
            text = values[0] if values else ""
            if len(text) > ANSWER_TEXT_MAX:
                raise QuizError(
                    _("Keep each answer under %(count)s characters.") % {"count": ANSWER_TEXT_MAX}
                )
            if text.strip():
                parsed[str(question_id)] = text
            continue
        if len(values) > len(option_ids):
            raise QuizError(_("The answer chooses more options than the question has."))
        try:
            chosen = [int(v) for v in values]
        except ValueError as exc:
            raise QuizError(_("The answer names an option that is not part of the quiz.")) from exc
        if any(option_id not in option_ids for option_id in chosen):
            raise QuizError(_("The answer names an option that is not part of the quiz."))
        if question.kind != Question.Kind.MULTIPLE and len(chosen) > 1:
            raise QuizError(_("Choose one option for a single-choice question."))
        if chosen:
            parsed[str(question_id)] = sorted(set(chosen))
    return parsed


def submit_attempt(
    *,
    school: School,
    student: User,
    lesson: Lesson,
    attempt_id: int,
    answers: Mapping[str, list[str]],
) -> Submitted:
    """Grade and store the attempt. Another student's attempt (or another school's) is
    404, a submitted one is returned unchanged (a replayed form changes nothing); the
    attempt row is locked, so two simultaneous submissions grade it once. Passing
    completes the lesson through the courses progress service."""
    permissions.require_in_school(school, lesson)
    if not student.is_authenticated or student.school_id != school.pk:
        raise PermissionDenied("Log in to take the quiz.")
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("quiz__lesson")
            .filter(school=school, pk=attempt_id, student=student, quiz__lesson=lesson)
            .first()
        )
        if attempt is None:  # missing, another student's, lesson's or school's: alike
            raise Http404("No such attempt.")
        if attempt.is_submitted:
            return Submitted(attempt, replayed=True)
        quiz = attempt.quiz
        layout = attempt.layout
        questions = {
            q.pk: q
            for q in Question.objects.filter(
                school=school, quiz=quiz, pk__in=[item[0] for item in layout]
            ).prefetch_related("options")
        }
        parsed = _parse_answers(layout, questions, answers)
        results: dict[str, bool] = {}
        for question_id, _ in layout:
            question = questions.get(question_id)
            if question is None:
                continue
            correct_ids = [o.pk for o in question.options.all() if o.is_correct]
            results[str(question_id)] = grading.is_right(
                question, correct_ids, parsed.get(str(question_id))
            )
        score = grading.Score(sum(results.values()), len(results))
        attempt.answers = parsed
        attempt.results = results
        attempt.correct_count = score.correct
        attempt.question_count = score.total
        attempt.score = score.percent
        attempt.passed = score.passes(quiz.pass_mark)
        attempt.submitted_at = timezone.now()
        attempt.save()
        if attempt.passed:
            set_lesson_completed(school=school, student=student, lesson=quiz.lesson)
    return Submitted(attempt, replayed=False)
