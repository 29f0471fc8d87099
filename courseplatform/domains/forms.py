from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AddDomainForm(forms.Form):
    hostname = forms.CharField(
        label=_("Domain name"),
        max_length=300,
        help_text=_(
            "A name you own, such as learn.yourbrand.com. You will create two DNS records next."
        ),
        widget=forms.TextInput(
            attrs={
                "class": "input",
                "placeholder": "learn.yourbrand.com",
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "inputmode": "url",
                # A hostname reads left to right in every language.
                "dir": "ltr",
            }
        ),
    )
