from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField

from .models import TOKEN_NAME_MAX, ApiToken

EXPIRY_CHOICES = [
    ("", _("Never")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
]


class NewTokenForm(StyledFormMixin, forms.Form):
    name = SingleLineField(
        label=_("Name"),
        max_length=TOKEN_NAME_MAX,
        help_text=_("What uses it, e.g. “CRM sync” or “Shop”."),
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        label=_("Access"),
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label=_("Expires"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons are not text inputs: keep the shared class off them.
        self.fields["scope"].widget.attrs.pop("class", None)

    def expires_at(self) -> Any:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None
