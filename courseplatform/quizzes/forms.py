"""Forms of quiz authoring. They only parse; the rules live in ``services`` and come
back as ``ValidationError`` / ``QuizError``, which the views put on the forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.courses.forms import MARKDOWN_HELP

from .models import Question, Quiz
from .services import MAX_OPTIONS, OptionInput

BLANK_OPTION_ROWS = 2
# Rows read from a posted form at most: a form claiming more is refused, not parsed.
MAX_POSTED_ROWS = MAX_OPTIONS + BLANK_OPTION_ROWS


class QuizSettingsForm(StyledFormMixin, forms.Form):
    pass_mark = forms.IntegerField(
        label=_("Pass mark (%)"),
        min_value=0,
        max_value=100,
        help_text=_("The share of questions a student must answer right to pass."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    max_attempts = forms.IntegerField(
        label=_("Attempts allowed"),
        min_value=1,
        max_value=1000,
        required=False,
        help_text=_("Leave empty for unlimited attempts."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    shuffle_questions = forms.BooleanField(label=_("Shuffle the questions"), required=False)
    shuffle_options = forms.BooleanField(
        label=_("Shuffle the options of each question"), required=False
    )
    reveal = forms.ChoiceField(
        label=_("Show the correct answers and explanations"),
        choices=Quiz.Reveal.choices,
        widget=forms.RadioSelect,
    )

    @classmethod
    def for_quiz(cls, quiz: Quiz | None, **kwargs: Any) -> QuizSettingsForm:
        quiz = quiz or Quiz()
        return cls(
            initial={
                "pass_mark": quiz.pass_mark,
                "max_attempts": quiz.max_attempts,
                "shuffle_questions": quiz.shuffle_questions,
                "shuffle_options": quiz.shuffle_options,
                "reveal": quiz.reveal,
            },
            auto_id="id_quiz_%s",
            **kwargs,
        )


class AddQuestionForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Question type"), choices=Question.Kind.choices)


class QuestionForm(StyledFormMixin, forms.Form):
    prompt_md = forms.CharField(
        label=_("Question"),
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-mono"}),
    )
    explanation_md = forms.CharField(
        label=_("Explanation"),
        required=False,
        help_text=_("Shown with the result once the student may see the correct answers."),
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-mono"}),
    )
    true_false = forms.ChoiceField(
        label=_("The statement is"),
        choices=[("true", _("True")), ("false", _("False"))],
        required=False,
        widget=forms.RadioSelect,
    )
    accepted_answers = forms.CharField(
        label=_("Accepted answers"),
        required=False,
        help_text=_("One per line. Spaces at the ends and repeated spaces are ignored."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    case_sensitive = forms.BooleanField(label=_("Upper and lower case must match"), required=False)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != Question.Kind.TEXT:
            del self.fields["accepted_answers"]
            del self.fields["case_sensitive"]
        if kind != Question.Kind.TRUE_FALSE:
            del self.fields["true_false"]

    def accepted(self) -> list[str]:
        return str(self.cleaned_data.get("accepted_answers") or "").splitlines()


def option_rows(question: Question | None) -> list[dict[str, Any]]:
    """The option rows the form shows: the question's options and blank ones."""
    rows: list[dict[str, Any]] = []
    if question is not None and question.pk:
        rows = [
            {"id": o.pk, "text": o.text, "correct": o.is_correct} for o in question.options.all()
        ]
    blanks = min(BLANK_OPTION_ROWS, max(0, MAX_OPTIONS - len(rows)))
    return rows + [{"id": "", "text": "", "correct": False}] * blanks


def posted_option_rows(data: QueryDict) -> list[dict[str, Any]]:
    """The option rows as posted (to show them again after a refusal)."""
    count = _row_count(data)
    return [
        {
            "id": data.get(f"option-{i}-id", ""),
            "text": data.get(f"option-{i}-text", ""),
            "correct": data.get(f"option-{i}-correct") == "on",
        }
        for i in range(min(count, MAX_POSTED_ROWS))
        if data.get(f"option-{i}-remove") != "on"
    ]


def _row_count(data: QueryDict) -> int:
    try:
        return max(0, int(data.get("option-count", "0")))
    except ValueError:
        return 0


class TooManyRows(ValueError):
    pass


def parse_options(data: QueryDict, kind: str, form: QuestionForm) -> list[OptionInput]:
    """Option inputs from the posted rows (``option-<i>-id|text|correct|remove``,
    ``option-count``); true/false from its radio. Raises ``TooManyRows``."""
    if kind == Question.Kind.TEXT:
        return []
    if kind == Question.Kind.TRUE_FALSE:
        value = form.cleaned_data.get("true_false")
        ids = [data.get("option-0-id", ""), data.get("option-1-id", "")]
        return [
            OptionInput(label, value == label.lower(), int(ids[i]) if ids[i].isdigit() else None)
            for i, label in enumerate(("True", "False"))
        ]
    count = _row_count(data)
    if count > MAX_POSTED_ROWS:
        raise TooManyRows(
            gettext("A question can have at most %(count)s options; remove some.")
            % {"count": MAX_OPTIONS}
        )
    options = []
    for i in range(count):
        if data.get(f"option-{i}-remove") == "on":
            continue
        raw_id = data.get(f"option-{i}-id", "")
        options.append(
            OptionInput(
                data.get(f"option-{i}-text", ""),
                data.get(f"option-{i}-correct") == "on",
                int(raw_id) if raw_id.isdigit() else None,
            )
        )
    return options
