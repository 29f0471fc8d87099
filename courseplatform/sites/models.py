from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from courseplatform.tenancy.models import TenantModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #4f46e5.")


class Theme(TenantModel):
    """A school's brand, applied through CSS variables on every school page."""

    primary_color = models.CharField(max_length=7, default="#4f46e5", validators=[hex_colour])
    accent_color = models.CharField(max_length=7, default="#f59e0b", validators=[hex_colour])
    background_color = models.CharField(max_length=7, default="#ffffff", validators=[hex_colour])
    text_color = models.CharField(max_length=7, default="#0f172a", validators=[hex_colour])
    logo = models.CharField(max_length=500, blank=True, help_text="Storage key of the logo.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school"], name="one_theme_per_school")]


class Page(TenantModel):
    """A page of the school site. ``body_html`` is sanitised before it is stored."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    is_home = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["school", "slug"], name="page_slug_unique_per_school"),
            models.UniqueConstraint(
                fields=["school"], condition=models.Q(is_home=True), name="one_home_page_per_school"
            ),
        ]

    def __str__(self) -> str:
        return self.title
