"""What a school tells its students: announcements (with one delivery row per
recipient), drip unlock notices (the sent-markers) and email opt-outs.

Every model is school-owned (``TenantModel``) under row-level security.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from courseplatform.courses.models import Course, Section
from courseplatform.tenancy.models import TenantModel

TITLE_MAX = 200
BODY_MAX = 20_000


class EmailPreference(TenantModel):
    """A student's choice about the school's course emails (announcements, unlocks).

    No row means "subscribed". ``token_version`` is in every unsubscribe link; each
    change of the choice bumps it, so a link works once (a replayed one is refused).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    token_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="email_preference_unique_user")
        ]


class UnlockNotice(TenantModel):
    """The marker that one student was told (or skipped) about one drip section
    opening: inserted before the email goes, unique, so it goes at most once."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unsubscribed)"

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "student"], name="unlock_notice_once")
        ]


class Announcement(TenantModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=TITLE_MAX)
    body_md = models.TextField()
    body_html = models.TextField(help_text="Sanitised rendering of body_md.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "course", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class AnnouncementDelivery(TenantModel):
    """One recipient of one announcement: the email's progress and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unsubscribed)"

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a batch took this row (status SENDING): a row left SENDING long after, with
    # nothing of its announcement claimed since, belongs to a batch whose worker died.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "student"], name="announcement_delivery_once"
            )
        ]
        indexes = [models.Index(fields=["announcement", "status"])]
