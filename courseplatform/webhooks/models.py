"""Webhook endpoints a school registers, and every delivery made to them.

An endpoint's signing secrets are stored encrypted (``ops.crypto``, ``ENCRYPTION_KEYS``);
after a rotation the previous secret keeps signing next to the new one until
``previous_secret_expires_at``. A delivery keeps the exact body it sends (retries and
resends send the same bytes, freshly signed) and what the last attempt saw.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from courseplatform.tenancy.models import TenantModel

URL_MAX = 2000
RESPONSE_BODY_MAX = 2048
# A school's endpoints are few; the cap keeps one event from fanning out without bound.
MAX_ENDPOINTS_PER_SCHOOL = 20


class WebhookEndpoint(TenantModel):
    url = models.CharField(max_length=URL_MAX)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True)
    secret_ciphertext = models.TextField()
    previous_secret_ciphertext = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Deliveries in a row that failed for good (retries used up); any success resets it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    def receives(self, event_type: str) -> bool:
        return event_type in self.event_types


class WebhookDelivery(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    # The Standard Webhooks message id (``webhook-id``): the event's id, the same for every
    # attempt and resend, so receivers can drop duplicates.
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=40)
    payload = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=URL_MAX, blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "endpoint", "-created_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
