from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from courseplatform.tenancy.models import TenantModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #4f46e5."))


# The bundled, self-hosted fonts (npm @fontsource-variable packages, copied to
# static/dist/fonts/ by frontend/scripts/copy-assets.mjs). sites/theming.py maps each
# key to its CSS font stack; a key added here needs an entry there and in themeFonts.
FONT_CHOICES = [
    ("inter", "Inter"),
    ("source-sans-3", "Source Sans 3"),
    ("montserrat", "Montserrat"),
    ("lora", _("Lora (serif)")),
    ("merriweather", _("Merriweather (serif)")),
    ("jetbrains-mono", "JetBrains Mono"),
    ("system", _("System UI (no download)")),
]


class Theme(TenantModel):
    """A school's brand, applied through CSS variables on every school page."""

    class ButtonShape(models.TextChoices):
        ROUNDED = "rounded", pgettext_lazy("button shape", "Rounded")
        PILL = "pill", pgettext_lazy("button shape", "Pill")
        SQUARE = "square", pgettext_lazy("button shape", "Square")

    primary_color = models.CharField(max_length=7, default="#4f46e5", validators=[hex_colour])
    accent_color = models.CharField(max_length=7, default="#f59e0b", validators=[hex_colour])
    background_color = models.CharField(max_length=7, default="#ffffff", validators=[hex_colour])
    text_color = models.CharField(max_length=7, default="#0f172a", validators=[hex_colour])
    logo_key = models.CharField(max_length=500, blank=True, help_text="Storage key of the logo.")
    favicon_key = models.CharField(max_length=500, blank=True)
    heading_font = models.CharField(max_length=20, choices=FONT_CHOICES, default="inter")
    body_font = models.CharField(max_length=20, choices=FONT_CHOICES, default="inter")
    button_shape = models.CharField(
        max_length=10, choices=ButtonShape.choices, default=ButtonShape.ROUNDED
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school"], name="one_theme_per_school")]


class Page(TenantModel):
    """A page of the school site, designed in the builder.

    The draft (HTML, CSS and the builder's project JSON) is autosaved; publishing
    copies it into a PageRevision and points ``published_revision`` at it. HTML
    and CSS are sanitised before they are stored, and again when rendered.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("page status", "Draft")
        PUBLISHED = "published", pgettext_lazy("page status", "Published")

    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    is_home = models.BooleanField(default=False)
    show_in_nav = models.BooleanField(default=True)
    nav_order = models.PositiveSmallIntegerField(default=0)
    draft_html = models.TextField(blank=True)
    draft_css = models.TextField(blank=True)
    draft_project = models.JSONField(default=dict, blank=True)
    draft_updated_at = models.DateTimeField(null=True, blank=True)
    published_html = models.TextField(blank=True)
    published_css = models.TextField(blank=True)
    published_revision = models.ForeignKey(
        "PageRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nav_order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["school", "slug"], name="page_slug_unique_per_school"),
            models.UniqueConstraint(
                fields=["school"], condition=models.Q(is_home=True), name="one_home_page_per_school"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PageRevision(TenantModel):
    """An immutable snapshot of a page, made on publish (and on restore)."""

    class Kind(models.TextChoices):
        PUBLISH = "publish", pgettext_lazy("revision kind", "Published")
        RESTORE = "restore", pgettext_lazy("revision kind", "Restored")

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLISH)
    html = models.TextField(blank=True)
    css = models.TextField(blank=True)
    project = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["page", "number"], name="page_revision_number_unique")
        ]
