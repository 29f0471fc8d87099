"""Forms of the whole-school export and the closure (owner only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin


class CloseSchoolForm(StyledFormMixin, forms.Form):
    confirm_slug = forms.CharField(
        label=_("Type the school's address to confirm"),
        max_length=60,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Your password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("We ask again because closing deletes everything."),
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm_slug"].widget.attrs["placeholder"] = slug
        self.fields["confirm_slug"].help_text = format_html(
            gettext("Type <strong>{}</strong> exactly."), slug
        )


class SchoolExportForm(StyledFormMixin, forms.Form):
    codes = forms.ChoiceField(
        label=_("Access codes"),
        choices=[
            ("encrypted", _("Encrypted with a passphrase (recommended)")),
            ("plain", _("Plain text")),
            ("none", _("Leave them out")),
        ],
        initial="encrypted",
        widget=forms.RadioSelect,
    )
    include_videos = forms.BooleanField(
        label=_("Include the original video files (can be large)"),
        required=False,
    )
    passphrase = forms.CharField(
        label=_("Passphrase for the codes"),
        required=False,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 12 characters. We do not keep it: without it the codes file cannot be opened."
        ),
    )
    passphrase_again = forms.CharField(
        label=_("Passphrase again"),
        required=False,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("codes") == "encrypted":
            phrase = data.get("passphrase") or ""
            if len(phrase) < 12:
                self.add_error("passphrase", _("Use at least 12 characters."))
            elif phrase != data.get("passphrase_again"):
                self.add_error("passphrase_again", _("The two passphrases differ."))
        return data
