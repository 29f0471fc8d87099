from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField

from .models import DEFAULT_TITLE, PaperSize
from .services import REASON_MAX, TEXT_MAX


class SettingsForm(StyledFormMixin, forms.Form):
    enabled = forms.BooleanField(
        label=_("Give students a certificate when they complete every lesson"), required=False
    )
    title = SingleLineField(
        label=_("Certificate title"), max_length=TEXT_MAX, initial=DEFAULT_TITLE
    )
    signer_name = SingleLineField(
        label=_("Signed by"),
        max_length=TEXT_MAX,
        required=False,
        help_text=_("The name printed under the signature, e.g. the instructor's."),
    )
    signer_title = SingleLineField(
        label=_("Signer's role"),
        max_length=TEXT_MAX,
        required=False,
        help_text=_("e.g. Lead instructor"),
    )
    paper_size = forms.ChoiceField(
        label=_("Paper size"),
        choices=PaperSize.choices,
        initial=PaperSize.A4,
        help_text=_("The size of the download; My courses also offers the other one."),
    )


class SignatureForm(StyledFormMixin, forms.Form):
    signature = forms.FileField(
        label=_("Signature image"),
        help_text=_("JPEG, PNG, WebP or GIF; a transparent PNG of a signature looks best."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )


class RevokeForm(StyledFormMixin, forms.Form):
    reason = SingleLineField(
        label=_("Reason (kept in the audit log)"), max_length=REASON_MAX, required=False
    )


class VerifyForm(StyledFormMixin, forms.Form):
    pdf = forms.FileField(
        label=_("Certificate PDF"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
