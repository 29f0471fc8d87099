"""Certificates of completion: the per-course settings and the issued certificates.

Both are school-owned (``TenantModel``) and under row-level security. An issued
certificate keeps a snapshot of what it certifies (student name, course title, school
name, title, signer): it certifies what was true when it was issued, and its PDF
signature covers exactly these stored fields, so a later rename changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.courses.models import Course
from courseplatform.tenancy.models import TenantModel

DEFAULT_TITLE = "Certificate of Completion"


class PaperSize(models.TextChoices):
    A4 = "a4", "A4"
    LETTER = "letter", _("US Letter")


class CertificateSettings(TenantModel):
    """What the owner chose for one course's certificate (one row per course)."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    title = models.CharField(max_length=120, default=DEFAULT_TITLE)
    signer_name = models.CharField(max_length=120, blank=True)
    signer_title = models.CharField(max_length=120, blank=True)
    signature_key = models.CharField(max_length=500, blank=True, help_text="Storage key.")
    paper_size = models.CharField(max_length=10, choices=PaperSize.choices, default=PaperSize.A4)
    updated_at = models.DateTimeField(auto_now=True)


class Certificate(TenantModel):
    # secrets.token_urlsafe(16): 128 random bits, 22 characters of [A-Za-z0-9_-].
    code = models.CharField(max_length=32, unique=True)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates"
    )
    title = models.CharField(max_length=120)
    student_name = models.CharField(max_length=200)
    course_title = models.CharField(max_length=200)
    school_name = models.CharField(max_length=200)
    signer_name = models.CharField(max_length=120, blank=True)
    signer_title = models.CharField(max_length=120, blank=True)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            # Issued exactly once per student and course, whatever the concurrency.
            models.UniqueConstraint(fields=["course", "student"], name="certificate_once")
        ]
        indexes = [models.Index(fields=["school", "course"])]

    def __str__(self) -> str:
        return f"{self.title}: {self.student_name} ({self.course_title})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
