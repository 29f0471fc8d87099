"""Forms of the course archive pages: what to put in an export, the archive to import."""

from __future__ import annotations

from django import forms
from django.conf import settings

from courseplatform.accounts.forms import StyledFormMixin


class ExportForm(forms.Form):
    include_sources = forms.BooleanField(
        required=False,
        label="Include the original video files",
        help_text="Lets the importing school transcode the videos again. Makes the archive "
        "as big as your uploads.",
    )
    include_renditions = forms.BooleanField(
        required=False,
        label="Include the streaming versions (HLS renditions)",
        help_text="Videos play right after an import, without transcoding.",
    )


class ImportForm(StyledFormMixin, forms.Form):
    archive = forms.FileField(
        label="Course archive (.zip)",
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES / 1024**2
        self.fields["archive"].help_text = (
            "An archive exported from a course of this or another school, up to "
            f"{limit:,.0f} MB. It becomes a new draft course; nothing else changes."
        )
