from __future__ import annotations

from typing import Any

from django import forms

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField
from courseplatform.tenancy.models import School


class SchoolSettingsForm(StyledFormMixin, forms.ModelForm):
    name = SingleLineField(max_length=120)

    class Meta:
        model = School
        fields = ["name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = "School name"
