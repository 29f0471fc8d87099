from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField
from courseplatform.tenancy.languages import language_choices
from courseplatform.tenancy.selectors import is_slug_available
from courseplatform.tenancy.slugs import SLUG_MAX, normalize_slug, slug_problem


class SchoolSignupForm(StyledFormMixin, forms.Form):
    full_name = SingleLineField(
        label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Your email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # Lazy: the validators' texts in the language of the request, not of the import.
        help_text=lazy(password_validators_help_text_html, str)(),
        label=_("Password"),
    )
    school_name = SingleLineField(label=_("School name"), max_length=120)
    language = forms.ChoiceField(
        label=_("School language"),
        choices=language_choices,
        help_text=_("The language of your school’s pages and emails. You can change it later."),  # noqa: RUF001
    )
    subdomain = forms.CharField(
        label=_("Subdomain"),
        max_length=SLUG_MAX + 20,  # longer input gets our clear message, not a truncation
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
                "hx-get": "/signup/check-subdomain/",
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#subdomain-status",
                "hx-swap": "innerHTML",
            }
        ),
        help_text=_("Lowercase letters, digits and hyphens; 3 to 40 characters."),
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # A post without the field (an older page, a script) gets the default the page
        # would have offered, not an error.
        initial = kwargs.get("initial") or {}
        if data is not None and "language" not in data:
            data = data.copy()
            data["language"] = initial.get("language") or "en"
        super().__init__(data, *args, **kwargs)

    def clean_subdomain(self) -> str:
        slug = normalize_slug(self.cleaned_data["subdomain"])
        problem = slug_problem(slug)
        if problem:
            raise forms.ValidationError(problem)
        if not is_slug_available(slug):
            raise forms.ValidationError(_("This subdomain is already taken."))
        return slug


class FindSchoolForm(StyledFormMixin, forms.Form):
    subdomain = forms.CharField(
        label=_("Subdomain"),
        max_length=SLUG_MAX + 20,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )

    def clean_subdomain(self) -> str:
        return normalize_slug(self.cleaned_data["subdomain"])
