from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Student list"),
        help_text=_(
            "A .csv (UTF-8) or .xlsx file whose first row names the columns "
            "<code>name</code>, <code>email</code> and, optionally, <code>courses</code> "
            "(course slugs separated by “;” or spaces)."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
