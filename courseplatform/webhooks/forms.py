"""The endpoint form: it parses and renders; the rules (which URLs are allowed, which
events exist) live in ``services`` and ``urlguard`` so every way in refuses the same
things with the same words."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from courseplatform.ops.events import EVENT_TYPES

from .event_labels import event_meaning


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint URL"),
        strip=True,
        widget=forms.URLInput(
            attrs={
                "class": "input",
                "placeholder": "https://example.com/webhooks",
                "inputmode": "url",
                # An address reads left to right on a right-to-left page too.
                "dir": "ltr",
            }
        ),
        help_text=_("Where we POST events. It must be a public https:// (or http://) address."),
        error_messages={"required": _("Enter the address (URL) of your endpoint.")},
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.TextInput(attrs={"class": "input", "placeholder": _("CRM sync")}),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, format_lazy("{} — {}", name, event_meaning(name))) for name in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
