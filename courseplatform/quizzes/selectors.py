"""Reads on quizzes. Every query names the school; an object of another school is
missing (404) exactly like an id that never existed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.http import Http404

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course, Lesson
from courseplatform.tenancy.models import School

from .grading import normalize_text
from .models import Attempt, Option, Question, Quiz


def quiz_for_lesson(*, school: School, lesson: Lesson) -> Quiz | None:
    return Quiz.objects.filter(school=school, lesson=lesson).first()


def questions_of(*, school: School, quiz: Quiz | None) -> list[Question]:
    """The quiz's questions in the author's order, options prefetched."""
    if quiz is None:
        return []
    return list(Question.objects.filter(school=school, quiz=quiz).prefetch_related("options"))


def get_question_for_manager(*, school: School, user: User, question_id: int) -> Question:
    question = (
        Question.objects.select_related("quiz__lesson__course", "quiz__lesson__section")
        .filter(school=school, pk=question_id)
        .first()
    )
    if question is None:
        raise Http404("No such question.")
    permissions.require_course_manager(school, user, question.quiz.lesson.course)
    return question


@dataclass
class StudentQuiz:
    """One student's standing on one quiz."""

    quiz: Quiz
    attempts: list[Attempt]  # every attempt, oldest first

    @property
    def submitted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.is_submitted]

    @property
    def open_attempt(self) -> Attempt | None:
        return next((a for a in self.attempts if not a.is_submitted), None)

    @property
    def latest(self) -> Attempt | None:
        submitted = self.submitted
        return submitted[-1] if submitted else None

    @property
    def best_score(self) -> int | None:
        scores = [a.score for a in self.submitted if a.score is not None]
        return max(scores) if scores else None

    @property
    def has_passed(self) -> bool:
        return any(a.passed for a in self.submitted)

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def remaining(self) -> int | None:
        """Attempts the student may still start (None: unlimited)."""
        if self.quiz.max_attempts is None:
            return None
        return max(0, self.quiz.max_attempts - self.used)

    @property
    def can_start(self) -> bool:
        return self.open_attempt is None and (self.remaining is None or self.remaining > 0)

    @property
    def shows_answers(self) -> bool:
        """Whether the review may show correct answers and explanations."""
        return self.quiz.reveal == Quiz.Reveal.AFTER_SUBMISSION or self.has_passed


def student_quiz(*, school: School, quiz: Quiz, student: User) -> StudentQuiz:
    attempts = list(
        Attempt.objects.filter(school=school, quiz=quiz, student=student).order_by("number")
    )
    return StudentQuiz(quiz, attempts)


# --- instructors ------------------------------------------------------------------------


@dataclass
class QuestionStats:
    question: Question
    answered: int = 0  # submitted attempts that had this question
    correct: int = 0
    wrong_choice: Option | None = None
    wrong_choice_count: int = 0
    wrong_text: str = ""
    wrong_text_count: int = 0

    @property
    def percent_correct(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


@dataclass
class QuizStats:
    attempts: int
    students: int
    passed_students: int
    average_score: int
    questions: list[QuestionStats] = field(default_factory=list)


def quiz_stats(*, school: School, quiz: Quiz) -> QuizStats:
    """Per-question share of right answers and the most chosen wrong option (or most
    given wrong text), over every submitted attempt: two queries whatever the size."""
    questions = questions_of(school=school, quiz=quiz)
    stats = {q.pk: QuestionStats(q) for q in questions}
    wrong_choices: dict[int, Counter[int]] = {q.pk: Counter() for q in questions}
    wrong_texts: dict[int, Counter[str]] = {q.pk: Counter() for q in questions}
    correct_ids = {q.pk: {o.pk for o in q.options.all() if o.is_correct} for q in questions}
    rows = Attempt.objects.filter(school=school, quiz=quiz, submitted_at__isnull=False).values_list(
        "student_id", "score", "passed", "answers", "results"
    )
    students: set[int] = set()
    passed: set[int] = set()
    scores: list[int] = []
    for student_id, score, did_pass, answers, results in rows:
        students.add(student_id)
        if did_pass:
            passed.add(student_id)
        scores.append(score or 0)
        for key, right in results.items():
            item = stats.get(int(key))
            if item is None:  # a question deleted since
                continue
            item.answered += 1
            if right:
                item.correct += 1
                continue
            answer = answers.get(key)
            if isinstance(answer, list):
                wrong_choices[item.question.pk].update(
                    o for o in answer if o not in correct_ids[item.question.pk]
                )
            elif isinstance(answer, str):
                wrong_texts[item.question.pk][
                    normalize_text(answer, case_sensitive=item.question.case_sensitive)
                ] += 1
    for question in questions:
        item = stats[question.pk]
        if wrong_choices[question.pk]:
            option_id, count = wrong_choices[question.pk].most_common(1)[0]
            item.wrong_choice = next((o for o in question.options.all() if o.pk == option_id), None)
            item.wrong_choice_count = count
        if wrong_texts[question.pk]:
            item.wrong_text, item.wrong_text_count = wrong_texts[question.pk].most_common(1)[0]
    return QuizStats(
        attempts=len(scores),
        students=len(students),
        passed_students=len(passed),
        average_score=round(sum(scores) / len(scores)) if scores else 0,
        questions=[stats[q.pk] for q in questions],
    )


def course_questions(*, school: School, course: Course) -> dict[int, list[Question]]:
    """Every question of the course's quizzes by quiz id, options prefetched (two queries)."""
    by_quiz: dict[int, list[Question]] = {}
    for question in Question.objects.filter(school=school, quiz__course=course).prefetch_related(
        "options"
    ):
        by_quiz.setdefault(question.quiz_id, []).append(question)
    return by_quiz


def course_has_quizzes(*, course: Course) -> bool:
    return Lesson.objects.filter(
        school_id=course.school_id, course=course, kind=Lesson.Kind.QUIZ
    ).exists()


@dataclass
class LessonAttempts:
    lesson: Lesson
    quiz: Quiz | None
    attempts: list[Attempt]

    @property
    def best_score(self) -> int | None:
        scores = [a.score for a in self.attempts if a.score is not None]
        return max(scores) if scores else None


def student_attempts(*, school: School, course: Course, student: User) -> list[LessonAttempts]:
    """Every quiz lesson of the course with the student's attempts (three queries)."""
    lessons = list(
        Lesson.objects.filter(school=school, course=course, kind=Lesson.Kind.QUIZ)
        .select_related("section")
        .order_by("section__position", "section_id", "position", "id")
    )
    quizzes = {q.lesson_id: q for q in Quiz.objects.filter(school=school, course=course)}
    by_quiz: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(
        school=school, quiz__course=course, student=student
    ).order_by("number"):
        by_quiz.setdefault(attempt.quiz_id, []).append(attempt)
    result = []
    for lesson in lessons:
        quiz = quizzes.get(lesson.pk)
        result.append(LessonAttempts(lesson, quiz, by_quiz.get(quiz.pk, []) if quiz else []))
    return result
