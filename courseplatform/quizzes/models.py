"""Quiz lessons: a quiz (one per lesson of kind ``quiz``), its questions and their
options, and the students' attempts.

Every model is school-owned (``TenantModel``) and under row-level security; child rows
repeat ``school`` so each RLS check is a single-column comparison. Correct answers
(``Option.is_correct``, ``Question.accepted_answers``) are read only by the grading
service and, after a submission the quiz's settings allow, by the review.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel

OPTION_TEXT_MAX = 300
ANSWER_TEXT_MAX = 200


class Quiz(TenantModel):
    class Reveal(models.TextChoices):
        AFTER_SUBMISSION = "submission", _("After every submission")
        AFTER_PASSING = "passing", _("Only once the student has passed")

    lesson = models.OneToOneField("courses.Lesson", on_delete=models.CASCADE, related_name="quiz")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    pass_mark = models.PositiveSmallIntegerField(default=70, help_text="Percent to pass.")
    # None: unlimited.
    max_attempts = models.PositiveSmallIntegerField(null=True, blank=True)
    shuffle_questions = models.BooleanField(default=False)
    shuffle_options = models.BooleanField(default=False)
    reveal = models.CharField(
        max_length=12, choices=Reveal.choices, default=Reveal.AFTER_SUBMISSION
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pass_mark__lte=100), name="quiz_pass_mark_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__isnull=True) | models.Q(max_attempts__gte=1),
                name="quiz_max_attempts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Quiz of lesson {self.lesson_id}"


class Question(TenantModel):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        TRUE_FALSE = "true_false", _("True or false")
        TEXT = "text", _("Short text answer")

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    prompt_md = models.TextField()
    prompt_html = models.TextField(help_text="Sanitised rendering of prompt_md.")
    explanation_md = models.TextField(blank=True)
    explanation_html = models.TextField(blank=True)
    # Short text questions: any of these answers is right.
    accepted_answers = models.JSONField(default=list, blank=True)
    case_sensitive = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["quiz", "position"])]

    def __str__(self) -> str:
        return self.prompt_md[:60]

    @property
    def has_options(self) -> bool:
        return self.kind != self.Kind.TEXT


class Option(TenantModel):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(max_length=OPTION_TEXT_MAX)
    is_correct = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class Attempt(TenantModel):
    """One try at a quiz. ``layout`` fixes, when the attempt starts, the questions and
    the order of questions and options the student sees (shuffled or not); ``answers``
    and ``results`` are keyed by question id (as text, JSON keys)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveIntegerField()
    # [[question id, [option id, ...]], ...]
    layout = models.JSONField(default=list)
    # {question id: [option id, ...]} or {question id: "text answer"}
    answers = models.JSONField(default=dict)
    # {question id: true/false}
    results = models.JSONField(default=dict)
    correct_count = models.PositiveIntegerField(default=0)
    question_count = models.PositiveIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Percent.")
    passed = models.BooleanField(null=True)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["quiz", "student", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "student", "number"], name="quiz_attempt_number_unique"
            ),
            # At most one attempt in progress per student and quiz.
            models.UniqueConstraint(
                fields=["quiz", "student"],
                condition=models.Q(submitted_at__isnull=True),
                name="quiz_attempt_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.student_id} at quiz {self.quiz_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
