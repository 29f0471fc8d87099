"""Forms of the course archive pages: what to put in an export, the archive to import."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin


class ExportForm(forms.Form):
    include_sources = forms.BooleanField(
        required=False,
        label=_("Include the original video files"),
        help_text=_(
            "Lets the importing school transcode the videos again. Makes the archive "
            "as big as your uploads."
        ),
    )
    include_renditions = forms.BooleanField(
        required=False,
        label=_("Include the streaming versions (HLS renditions)"),
        help_text=_("Videos play right after an import, without transcoding."),
    )


class ImportForm(StyledFormMixin, forms.Form):
    archive = forms.FileField(
        label=_("Course archive (.zip)"),
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES / 1024**2
        self.fields["archive"].help_text = _(
            "An archive exported from a course of this or another school, up to "
            "%(limit)s MB. It becomes a new draft course; nothing else changes."
        ) % {"limit": formats.number_format(round(limit), force_grouping=True)}
