"""A bulk student import: the uploaded list as checked rows (the preview), then their
outcome once applied in the task worker.

The file itself is not kept: its rows are parsed once, at upload, into
``StudentImportRow`` (what the preview shows and what the worker applies). Both models
are school-owned (``TenantModel``) under row-level security.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel


class StudentImport(TenantModel):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Ready to apply")
        APPLYING = "applying", _("Applying")
        DONE = "done", _("Done")
        DISCARDED = "discarded", _("Discarded")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEW)
    # The port of the host the import was uploaded on: invitation links point there.
    port = models.CharField(max_length=8, blank=True)
    # Preview counts: rows in the file, and rows per planned action (see Row.Action).
    total_rows = models.PositiveIntegerField(default=0)
    invite_rows = models.PositiveIntegerField(default=0)
    enroll_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    over_limit_rows = models.PositiveIntegerField(default=0)
    warning_rows = models.PositiveIntegerField(default=0)
    student_limit = models.PositiveIntegerField(null=True, blank=True)
    students_before = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "-created_at"])]

    def __str__(self) -> str:
        return self.filename

    @property
    def actionable_rows(self) -> int:
        return self.invite_rows + self.enroll_rows


class StudentImportRow(TenantModel):
    """One student line of the file: what the preview found and what applying did."""

    class Action(models.TextChoices):
        INVITE = "invite", _("New account, invite")
        ENROLL = "enroll", _("Enrol existing account")
        UNCHANGED = "unchanged", _("Nothing to do")
        INVALID = "invalid", _("Skipped (problem)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPLYING = "applying", _("Applying")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    student_import = models.ForeignKey(StudentImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text="Row number in the file (the header is 1).")
    name = models.CharField(max_length=1001, blank=True)
    email = models.CharField(max_length=1001, blank=True)
    courses = models.JSONField(default=list, blank=True, help_text="Course slugs, as written.")
    action = models.CharField(max_length=10, choices=Action.choices)
    # [{"code": "bad_email", "message": "..."}]; codes of errors make the row invalid,
    # "formula" is a warning only.
    issues = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.CharField(max_length=500, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # When a batch took this row (status APPLYING): a row left applying long after, with
    # nothing of its import taken since, belongs to a batch whose worker died.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["line"]
        constraints = [
            models.UniqueConstraint(
                fields=["student_import", "line"], name="student_import_row_line_once"
            )
        ]
        indexes = [models.Index(fields=["student_import", "status"])]
