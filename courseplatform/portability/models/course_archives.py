"""Course archive jobs: one row per export (the zip built in the task worker, offered
through a signed link until it expires) and per import (the uploaded zip, validated,
then turned into a new course in the task worker).

Both are school-owned (``TenantModel``) and under row-level security. ``progress`` is
what the management pages poll; ``error`` is the reason shown when a job failed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.courses.models import Course
from courseplatform.tenancy.models import TenantModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("In progress")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class CourseExport(TenantModel):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Kept (NULL) when the course is deleted: the archive stays downloadable until it expires.
    course = models.ForeignKey(Course, null=True, on_delete=models.SET_NULL, related_name="+")
    course_title = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    include_sources = models.BooleanField(default=False)
    include_renditions = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    archive_key = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "course", "-created_at"])]

    def __str__(self) -> str:
        return f"Export of {self.course_title}"

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.READY, JobStatus.FAILED)

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return not self.archive_key or bool(self.expires_at and self.expires_at <= timezone.now())


class CourseImport(TenantModel):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(max_length=255)
    # The uploaded zip while the job needs it; removed when the job ends.
    archive_key = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    course_title = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=2000, blank=True)
    # What the import could not carry over (certificate settings for an instructor,
    # videos left to upload again), for the person who imported.
    notes = models.JSONField(default=list, blank=True)
    course = models.ForeignKey(Course, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import of {self.course_title}"

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.READY, JobStatus.FAILED)
