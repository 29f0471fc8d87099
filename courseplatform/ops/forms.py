"""The form-action shape every management view shares: validate a form, make one
service call with its cleaned data, and put what the service refused back on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors inline, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def submit[T](
    form: forms.Form,
    write: Callable[[dict[str, Any]], T],
    *,
    refusals: tuple[type[Exception], ...] = (),
) -> T | None:
    """Validate ``form``, hand its cleaned data to ``write`` (one service call) and
    return what the service returned.

    ``None`` means refused: the form's own errors, or the service's ``ValidationError``
    (under its fields), or one of ``refusals`` (an app's rule about the school's state,
    its message on top of the form), are then on ``form``. Anything else, such as
    ``PermissionDenied`` and ``Http404``, passes through (403 / 404 pages).
    """
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
    except refusals as exc:
        form.add_error(None, str(exc))
    return None
