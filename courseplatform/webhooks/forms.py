"""The endpoint form: it parses and renders; the rules (which URLs are allowed, which
events exist) live in ``services`` and ``urlguard`` so every way in refuses the same
things with the same words."""

from __future__ import annotations

from django import forms

from courseplatform.ops.events import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        strip=True,
        widget=forms.URLInput(
            attrs={
                "class": "input",
                "placeholder": "https://example.com/webhooks",
                "inputmode": "url",
            }
        ),
        help_text="Where we POST events. It must be a public https:// (or http://) address.",
        error_messages={"required": "Enter the address (URL) of your endpoint."},
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.TextInput(attrs={"class": "input", "placeholder": "CRM sync"}),
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(name, f"{name} — {meaning}") for name, meaning in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
