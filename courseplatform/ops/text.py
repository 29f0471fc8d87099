"""One rule for one-line text: names and titles (school, people, courses, sections,
lessons, pages, code batches, videos) refuse control characters, and text placed in an
email header is made one line first.

A line break in a name would break every email header it reaches (the email library
refuses it, so signup would fail) and render as nothing visible anywhere else; other
controls (NUL, form feed, escape, C1, the Unicode line and paragraph separators) are
never part of a real name. They are refused with a form error rather than stripped, so
what the person typed is never silently changed.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop

# C0, DEL, C1 (includes U+0085 NEL) and the Unicode line/paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Marked here, translated where it is raised (a str, so services can hold it in their dicts).
CONTROL_CHARACTERS_MESSAGE = gettext_noop(
    "Use one line of text: line breaks, tabs and other control characters are not allowed."
)


def validate_single_line(value: str, *, field: str | None = None) -> None:
    """Refuse ``value`` when it holds a control character (the form validator; with
    ``field`` the error is keyed by that field, as services raise them)."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        message = gettext(CONTROL_CHARACTERS_MESSAGE)
        if field is not None:
            raise ValidationError({field: message}, code="control_characters")
        raise ValidationError(message, code="control_characters")


class SingleLineField(forms.CharField):
    """A name or title input: stripped, and refused when it holds control characters."""

    default_validators = [validate_single_line]


def header_text(value: str) -> str:
    """``value`` as one line for an email header: each run of control characters and
    whitespace becomes one space (names stored before the rule may still hold them)."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


class SingleLineAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Operator console: the model fields named in ``single_line_fields`` follow the same
    one-line rule as the school's own forms."""

    single_line_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.single_line_fields:
            field.validators.append(validate_single_line)
        return field
