from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .languages import validate_language
from .slugs import validate_school_slug
from .timezones import DEFAULT_TIME_ZONE, validate_time_zone


class Plan(models.Model):
    """What a school may use. A null limit means unlimited."""

    FREE = "free"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    max_courses = models.PositiveIntegerField(null=True, blank=True)
    max_students = models.PositiveIntegerField(null=True, blank=True)
    max_storage_bytes = models.BigIntegerField(null=True, blank=True)
    max_video_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_upload_bytes = models.BigIntegerField(null=True, blank=True)
    max_pages = models.PositiveIntegerField(null=True, blank=True)
    max_page_bytes = models.PositiveIntegerField(null=True, blank=True)
    # Own domain names (domains app); 0 = none on this plan.
    max_custom_domains = models.PositiveIntegerField(null=True, blank=True, default=0)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """The tenant. Not itself row-level secured: it is the registry of tenants."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    slug = models.CharField(max_length=40, unique=True, validators=[validate_school_slug])
    name = models.CharField(max_length=120)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="schools")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(max_length=300, blank=True)
    # IANA name; drip schedules count days and dates in it (timezones.py).
    time_zone = models.CharField(
        max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    # The language of the school's pages and emails (tenancy/languages.py); "" follows
    # each visitor's browser. A student's own choice (User.language) comes first.
    language = models.CharField(
        max_length=10, blank=True, default="en", validators=[validate_language]
    )
    # Closure (portability/closure.py): the owner asked to close the school at
    # closing_requested_at; until purge_after it serves only the owner (sign in, export,
    # cancel), after it nobody, and the hourly purge removes every row and file of it.
    closing_requested_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug=Lower("slug")), name="school_slug_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> School:
        instance = super().from_db(db, field_names, values, **kwargs)
        # The slug as read, so a slug change can also forget the old host (signals.py).
        instance.loaded_slug = instance.__dict__.get("slug", "")
        return instance

    loaded_slug = ""

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_closing(self) -> bool:
        """The owner closed the school: it no longer serves students or visitors."""
        return self.purge_after is not None

    @property
    def purge_due(self) -> bool:
        """The closure's grace period is over: the school serves no one any more."""
        return self.purge_after is not None and self.purge_after <= timezone.now()


class TenantModel(models.Model):
    """Base for every school-owned row: a non-null school key, guarded by RLS.

    Each concrete subclass's migration must call ``rls.enable_rls`` for its
    table; ``tenancy/tests/test_rls.py`` fails for any table that is missing it.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
