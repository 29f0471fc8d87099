from __future__ import annotations

from django import forms

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField

from .models import BODY_MAX, TITLE_MAX


class AnnouncementForm(StyledFormMixin, forms.Form):
    title = SingleLineField(
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Live Q&A on Thursday"}),
    )
    body_md = forms.CharField(
        label="Message",
        max_length=BODY_MAX,
        help_text="Markdown: **bold**, _italic_, [links](https://example.com), lists. "
        "Scripts and unsafe HTML are removed.",
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-mono"}),
    )
