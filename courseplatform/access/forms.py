"""Forms of the access-code pages.

The forms parse and render; the rules (batch limits, which courses a batch may
name, what a valid code looks like) live in ``services`` so the API and the web
pages refuse the same things with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courseplatform.courses.models import Course
from courseplatform.ops.text import SingleLineField

from .models import MAX_BATCH_SIZE, MAX_USES_PER_CODE

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# A number grouped the way the reader's language groups digits (1,000 / 1.000),
# decided when the label is shown, not when the module is imported.
grouped = lazy(lambda number: number_format(number, force_grouping=True), str)


class CourseIdsField(forms.TypedMultipleChoiceField):
    """Checkboxes of the school's courses that hand every posted id to the service.

    Only this school's courses are offered, but the field does not itself refuse an id
    it did not offer: ``services.create_batch`` decides (and says "Choose courses of
    this school only."), so the rule has one home.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, empty_value=[], **kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit() and len(str(value)) <= 18


class NewBatchForm(forms.Form):
    name = SingleLineField(
        label=_("Batch name"),
        max_length=120,
        help_text=_("For you only, e.g. “Spring workshop” or “Partner: Acme”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    courses = CourseIdsField(
        label=_("Courses"),
        error_messages={"required": _("Choose at least one course.")},  # the service's words
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A code enrols its student in every course ticked here."),
    )
    code_count = forms.IntegerField(
        label=_("Number of codes"),
        initial=10,
        help_text=format_lazy(
            _("1 to {maximum}. Each code is for one student."), maximum=grouped(MAX_BATCH_SIZE)
        ),
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_BATCH_SIZE, "inputmode": "numeric"}),
    )
    uses_per_code = forms.IntegerField(
        label=_("Uses per code"),
        initial=1,
        help_text=_("1 = single-use. More lets several students share one code."),
        widget=forms.NumberInput(
            attrs={"min": 1, "max": MAX_USES_PER_CODE, "inputmode": "numeric"}
        ),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_("Leave empty for codes that never expire. Time in UTC."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        help_text=_("Who the codes are for, where they were handed out…"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, courses: Iterable[Course] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["courses"]
        assert isinstance(field, CourseIdsField)
        field.choices = [
            (c.pk, c.title if c.is_published else gettext("%(title)s (draft)") % {"title": c.title})
            for c in courses
        ]
        for bound in self.fields.values():
            if not isinstance(bound.widget, forms.CheckboxSelectMultiple):
                css = bound.widget.attrs.get("class", "")
                bound.widget.attrs["class"] = f"{css} input".strip()


class CodeInput(forms.CharField):
    """The raw text a student typed. No validation here: ``services.redeem_code``
    judges it (format, length, characters) and audits the attempt."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = []  # not even Django's null-character check: the service says why


class RedeemForm(forms.Form):
    code = CodeInput(
        label=_("Your access code"),
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "class": "input h-14 text-center font-mono text-xl tracking-widest uppercase "
                "placeholder:normal-case placeholder:tracking-normal sm:h-16 sm:text-2xl",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "autofocus": True,
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
                "dir": "ltr",  # codes read left to right in every language
            }
        ),
        help_text=_(
            "16 letters and digits, like K7QM-3XTA-9BDR-W2HN. Case, spaces and dashes don't matter."
        ),
    )

    def raw_code(self) -> str:
        """What was posted, whatever the field thought of it."""
        if self.is_valid():
            return str(self.cleaned_data.get("code") or "")
        return str(self.data.get("code", ""))
