"""The theme editor's form: colours, fonts, button shape, logo and favicon."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.files import UploadRejected

from . import theming
from .models import Theme

COLOUR_FIELDS = ("primary_color", "accent_color", "background_color", "text_color")
_SHORT_HEX = re.compile(r"^#?([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$")
_LONG_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
IMAGE_TYPES = "image/png,image/jpeg,image/webp,image/gif"


def normalize_colour(value: str) -> str:
    """``0F766E`` / ``#0f766e`` / ``#abc`` -> ``#0f766e`` / ``#aabbcc``; other input as is."""
    value = (value or "").strip()
    if match := _LONG_HEX.match(value):
        return "#" + match.group(1).lower()
    if match := _SHORT_HEX.match(value):
        return "#" + "".join(c * 2 for c in match.groups()).lower()
    return value


class ThemeForm(StyledFormMixin, forms.ModelForm):
    logo = forms.FileField(
        required=False,
        label=_("Logo"),
        help_text=_(
            "PNG, JPEG, WebP or GIF. Scaled to fit 512x512 pixels; a transparent PNG looks best."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES}),
    )
    remove_logo = forms.BooleanField(required=False, label=_("Remove the logo"))
    favicon = forms.FileField(
        required=False,
        label=_("Favicon"),
        help_text=_("A square image (at least 64x64), shown in browser tabs and bookmarks."),
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES}),
    )
    remove_favicon = forms.BooleanField(required=False, label=_("Remove the favicon"))

    class Meta:
        model = Theme
        fields = [*COLOUR_FIELDS, "heading_font", "body_font", "button_shape"]
        labels = {
            "primary_color": _("Primary"),
            "accent_color": _("Accent"),
            "background_color": _("Background"),
            "text_color": _("Text"),
            "heading_font": _("Heading font"),
            "body_font": _("Body font"),
            "button_shape": _("Button shape"),
        }
        help_texts = {
            "primary_color": _("Buttons, links and highlights."),
            "accent_color": _("Badges and small highlights."),
            "background_color": _("The page background."),
            "text_color": _("Body text on the background; it must reach a 4.5:1 contrast."),
        }
        widgets = {"button_shape": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in COLOUR_FIELDS:
            widget = self.fields[name].widget
            widget.attrs.update(
                {
                    "class": "font-mono uppercase",
                    "maxlength": "7",
                    "spellcheck": "false",
                    "autocomplete": "off",
                    "autocapitalize": "none",
                    "data-colour-text": name,
                    "dir": "ltr",  # "#0f172a" reads left to right in Arabic pages too
                }
            )
        for name in ("heading_font", "body_font"):
            self.fields[name].widget.attrs["data-font-select"] = name
        # Plain inputs for the file and checkbox fields (no "Currently: ..." markup).
        for name in ("logo", "favicon"):
            self.fields[name].widget = forms.FileInput(
                attrs={
                    **self.fields[name].widget.attrs,
                    "class": "input",
                    "data-image-input": name,
                }
            )
        for name in ("remove_logo", "remove_favicon"):
            self.fields[name].widget.attrs["class"] = ""
        self.fields["button_shape"].widget.attrs["class"] = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for kind, maker in (("logo", theming.make_logo), ("favicon", theming.make_favicon)):
            upload = cleaned.get(kind)
            if upload:
                try:
                    maker(upload)
                except UploadRejected as exc:
                    self.add_error(kind, str(exc))
        # Body text below WCAG AA is refused here, with both colours and the ratio, so
        # the owner sees it on the field (update_theme refuses it too, for other callers).
        error = theming.body_contrast_error(
            cleaned.get("text_color") or "", cleaned.get("background_color") or ""
        )
        if error:
            self.add_error("text_color", error)
        return cleaned

    def full_clean(self) -> None:
        # Accept colours typed without "#" or in short form by normalising the raw data
        # before the model field's #rrggbb validator sees it.
        if self.is_bound:
            data = self.data.copy()  # type: ignore[attr-defined]
            for name in COLOUR_FIELDS:
                key = self.add_prefix(name)
                if key in data:
                    data[key] = normalize_colour(str(data[key]))
            self.data = data
        super().full_clean()
