"""Whole-school exports: one row per export the owner requested. The zip is built in the
task worker (``progress`` is what the page polls), offered through a signed link on the
school's host until ``expires_at``, then deleted by ``expire_school_exports``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel


class SchoolExport(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("In progress")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Codes(models.TextChoices):
        PLAIN = "plain", _("Plain text")
        ENCRYPTED = "encrypted", _("Encrypted with a passphrase")
        NONE = "none", _("Leave the codes out")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    codes = models.CharField(max_length=10, choices=Codes.choices, default=Codes.PLAIN)
    # The videos' original files in each course (large; off by default).
    include_videos = models.BooleanField(default=False)
    # The owner's passphrase for the codes, encrypted at rest (ops.crypto) only until the
    # worker has used it; never in the task's arguments.
    passphrase_ciphertext = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=500, blank=True)
    archive_key = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "-created_at"], name="portability_sx_newest")]

    def __str__(self) -> str:
        return f"School export {self.uuid}"

    @property
    def is_done(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)
