from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import Plan, School


class SchoolFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=120, label=_("Search"))
    plan = forms.ChoiceField(
        required=False, label=_("Plan"), widget=forms.Select({"class": "input"})
    )
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("Any status")), *School.Status.choices],
        widget=forms.Select({"class": "input"}),
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, plans: list[Plan], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", _("Any plan"))] + [(p.code, p.name) for p in plans]  # type: ignore[attr-defined]


class SuspendForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput({"class": "input"}),
        label=_("Reason"),
        help_text=_("Kept with the school and written to the audit log."),
    )

    def clean_reason(self) -> str:
        # One line: it is shown in the console and on the audit entry.
        return " ".join(self.cleaned_data["reason"].split())


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.order_by("sort_order", "code"),
        to_field_name="code",
        label=_("Plan"),
        empty_label=None,
        widget=forms.Select({"class": "input"}),
    )
