"""Access codes: the platform's substitute for payments.

The database never holds a plaintext code: ``digest`` is an HMAC-SHA256 keyed
with a server secret (lookups), ``ciphertext`` is the code encrypted with
Fernet keys from the environment (so staff can re-export a batch).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from courseplatform.tenancy.models import TenantModel

MAX_BATCH_SIZE = 10_000
MAX_USES_PER_CODE = 10_000


class AccessCodeBatch(TenantModel):
    name = models.CharField(max_length=120)
    courses = models.ManyToManyField("courses.Course", through="BatchCourse", related_name="+")
    uses_per_code = models.PositiveIntegerField(default=1)
    code_count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class BatchCourse(TenantModel):
    batch = models.ForeignKey(AccessCodeBatch, on_delete=models.CASCADE)
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "course"], name="batch_course_unique")
        ]


class AccessCode(TenantModel):
    batch = models.ForeignKey(AccessCodeBatch, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    ciphertext = models.TextField()
    # Copied from the batch so that redemption is one conditional UPDATE of this row.
    max_uses = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    uses_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "digest"], name="access_code_digest_unique"),
            models.CheckConstraint(
                condition=models.Q(uses_count__lte=models.F("max_uses")),
                name="access_code_never_over_used",
            ),
        ]


class Redemption(TenantModel):
    code = models.ForeignKey(AccessCode, on_delete=models.CASCADE, related_name="redemptions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="redemptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["code", "student"], name="redemption_unique")
        ]
