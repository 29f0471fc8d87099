from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html

from courseplatform.accounts.forms import StyledFormMixin
from courseplatform.ops.text import SingleLineField
from courseplatform.tenancy.selectors import is_slug_available
from courseplatform.tenancy.slugs import SLUG_MAX, normalize_slug, slug_problem


class SchoolSignupForm(StyledFormMixin, forms.Form):
    full_name = SingleLineField(
        label="Your name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label="Your email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    school_name = SingleLineField(label="School name", max_length=120)
    subdomain = forms.CharField(
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
        help_text="Lowercase letters, digits and hyphens; 3 to 40 characters.",
    )

    def clean_subdomain(self) -> str:
        slug = normalize_slug(self.cleaned_data["subdomain"])
        problem = slug_problem(slug)
        if problem:
            raise forms.ValidationError(problem)
        if not is_slug_available(slug):
            raise forms.ValidationError("This subdomain is already taken.")
        return slug


class FindSchoolForm(StyledFormMixin, forms.Form):
    subdomain = forms.CharField(
        max_length=SLUG_MAX + 20,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )

    def clean_subdomain(self) -> str:
        return normalize_slug(self.cleaned_data["subdomain"])
