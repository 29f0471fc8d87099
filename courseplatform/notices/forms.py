from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField

from .models import BODY_MAX, TITLE_MAX


class AnnouncementForm(StyledFormMixin, forms.Form):
    title = SingleLineField(
        label=_("Title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Live Q&A on Thursday")}),
    )
    body_md = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX,
        help_text=_(
            "Markdown: **bold**, _italic_, [links](https://example.com), lists. "
            "Scripts and unsafe HTML are removed."
        ),
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-mono"}),
    )
