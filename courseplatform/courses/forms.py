"""Forms of the instructor authoring area (/manage/courses/).

Forms only parse and shape input; the rules (title length, unique slug, plan
limits, upload checks) live in ``services`` and come back as ``ValidationError``
or ``CourseError``, which the views attach to these forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField

from .models import TITLE_MAX, Lesson, Section

MARKDOWN_HELP = _(
    "Markdown: **bold**, _italic_, [links](https://example.com), lists, headings. "
    "Scripts and unsafe HTML are removed. Images must be uploaded to this school "
    "(e.g. through the page builder); images from other sites are refused."
)


def _markdown_widget(preview_url: str | None, target: str, rows: int = 8) -> forms.Textarea:
    # dir=auto: Markdown source keeps its own direction in a right-to-left page.
    attrs: dict[str, Any] = {
        "rows": rows,
        "spellcheck": "true",
        "class": "font-mono",
        "dir": "auto",
    }
    if preview_url:
        # Live preview: htmx posts the textarea (its own name/value) and swaps the
        # sanitised HTML into the preview pane.
        attrs.update(
            {
                "hx-post": preview_url,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": target,
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )
    return forms.Textarea(attrs=attrs)


class CourseCreateForm(StyledFormMixin, forms.Form):
    title = SingleLineField(
        label=_("Title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(
            attrs={"autofocus": True, "placeholder": _("e.g. Watercolour basics")}
        ),
    )
    subtitle = SingleLineField(
        label=_("Subtitle"),
        max_length=300,
        required=False,
        help_text=_("One line shown under the title in your catalogue."),
    )
    description_md = forms.CharField(
        label=_("Description"),
        required=False,
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-mono", "dir": "auto"}),
    )


class CourseDetailsForm(StyledFormMixin, forms.Form):
    title = SingleLineField(label=_("Title"), max_length=TITLE_MAX)
    slug = forms.CharField(
        label=_("Address"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    subtitle = SingleLineField(label=_("Subtitle"), max_length=300, required=False)
    description_md = forms.CharField(
        label=_("Description"), required=False, help_text=MARKDOWN_HELP
    )

    def __init__(self, *args: Any, preview_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = _markdown_widget(preview_url, "#description-preview")
        widget.attrs["class"] = f"{widget.attrs['class']} input"
        self.fields["description_md"].widget = widget


class CoverForm(StyledFormMixin, forms.Form):
    cover = forms.FileField(
        label=_("Image file"),
        help_text=_(
            "JPEG, PNG, WebP or GIF; a 16:9 image of at least 1280 by 720 pixels looks best."
        ),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )


class SectionForm(StyledFormMixin, forms.Form):
    title = SingleLineField(
        label=_("Section title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Getting started")}),
    )


class SectionReleaseForm(StyledFormMixin, forms.Form):
    """When a section opens; the rules (days >= 0, a real date) are drip.parse_release's."""

    release = forms.ChoiceField(label=_("Opens"), choices=Section.Release.choices)
    days = forms.CharField(
        label=_("Days after enrolment"),
        required=False,
        max_length=10,
        widget=forms.NumberInput(attrs={"min": 0, "max": 3650, "inputmode": "numeric"}),
    )
    on_date = forms.CharField(
        label=_("Date (school time zone)"),
        required=False,
        max_length=20,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class LessonAddForm(StyledFormMixin, forms.Form):
    title = SingleLineField(
        label=_("Lesson title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("New lesson title")}),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Lesson.Kind.choices, initial=Lesson.Kind.TEXT)


class LessonForm(StyledFormMixin, forms.Form):
    title = SingleLineField(label=_("Title"), max_length=TITLE_MAX)
    kind = forms.ChoiceField(label=_("Type"), choices=Lesson.Kind.choices)
    duration_minutes = forms.IntegerField(
        label=_("Estimated duration (minutes)"),
        min_value=0,
        max_value=24 * 60,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    is_preview = forms.BooleanField(
        label=_("Free preview: anyone can open this lesson without enrolling"),
        required=False,
    )
    body_md = forms.CharField(label=_("Lesson text"), required=False, help_text=MARKDOWN_HELP)

    def __init__(self, *args: Any, preview_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = _markdown_widget(preview_url, "#body-preview", rows=16)
        widget.attrs["class"] = f"{widget.attrs['class']} input"
        self.fields["body_md"].widget = widget
        self.fields["duration_minutes"].widget.attrs["class"] += " max-w-40"


class AttachmentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Add a file"),
        help_text=_("PDF, ZIP, Word, Excel, PowerPoint, EPUB, images, MP3, TXT, Markdown or CSV."),
    )
