from __future__ import annotations

from typing import Any

from django import forms

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import time_zone_names, validate_time_zone


class SchoolSettingsForm(StyledFormMixin, forms.ModelForm):
    name = SingleLineField(max_length=120)

    class Meta:
        model = School
        fields = ["name", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = "School name"
        # A select of zoneinfo's names; the validator refuses anything else posted.
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone",
            required=False,  # left out: unchanged (clean_time_zone)
            choices=[(name, name.replace("_", " ")) for name in time_zone_names()],
            validators=[validate_time_zone],
            help_text="Drip schedules open sections at midnight in this time zone.",
            error_messages={
                "invalid_choice": "Unknown time zone: choose an IANA name such as Europe/London."
            },
        )
        self.fields["time_zone"].widget.attrs.update({"class": "input", "autocomplete": "off"})

    def clean_time_zone(self) -> str:
        value = self.cleaned_data.get("time_zone") or ""
        if "time_zone" not in self.data:
            return self.instance.time_zone  # type: ignore[no-any-return]
        validate_time_zone(value)  # a blank choice is as unknown as a made-up one
        return value
