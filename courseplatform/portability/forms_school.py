"""Forms of the whole-school export and the closure (owner only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html

from courseplatform.accounts.forms import StyledFormMixin


class CloseSchoolForm(StyledFormMixin, forms.Form):
    confirm_slug = forms.CharField(
        label="Type the school's address to confirm",
        max_length=60,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Your password",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="We ask again because closing deletes everything.",
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm_slug"].widget.attrs["placeholder"] = slug
        self.fields["confirm_slug"].help_text = format_html(
            "Type <strong>{}</strong> exactly.", slug
        )
