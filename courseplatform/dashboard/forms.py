from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField
from courseplatform.tenancy.languages import FOLLOW_BROWSER, language_choices, validate_language
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import time_zone_names, validate_time_zone


class SchoolSettingsForm(StyledFormMixin, forms.ModelForm):
    name = SingleLineField(max_length=120)

    class Meta:
        model = School
        fields = ["name", "language", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("School name")
        # A select of zoneinfo's names; the validator refuses anything else posted.
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"),
            required=False,  # left out: unchanged (clean_time_zone)
            choices=[(name, name.replace("_", " ")) for name in time_zone_names()],
            validators=[validate_time_zone],
            help_text=_("Drip schedules open sections at midnight in this time zone."),
            error_messages={
                "invalid_choice": _("Unknown time zone: choose an IANA name such as Europe/London.")
            },
        )
        self.fields["time_zone"].widget.attrs.update({"class": "input", "autocomplete": "off"})
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            required=False,  # left out: unchanged (clean_language)
            choices=[(FOLLOW_BROWSER, _("Each visitor's browser language")), *language_choices()],
            validators=[validate_language],
            help_text=_(
                "Pages and emails are in this language; students can choose their own in the "
                "footer."
            ),
        )
        self.fields["language"].widget.attrs.update({"class": "input"})

    def clean_language(self) -> str:
        if "language" not in self.data:
            return self.instance.language  # type: ignore[no-any-return]
        return self.cleaned_data.get("language") or FOLLOW_BROWSER

    def clean_time_zone(self) -> str:
        value = self.cleaned_data.get("time_zone") or ""
        if "time_zone" not in self.data:
            return self.instance.time_zone  # type: ignore[no-any-return]
        validate_time_zone(value)  # a blank choice is as unknown as a made-up one
        return value
