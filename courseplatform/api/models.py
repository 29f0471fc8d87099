"""API tokens and stored idempotent responses.

Tokens live here rather than in ``accounts`` (where DESIGN.md first placed them): only
the API authenticates with them, they carry API-only notions (scopes, rate limits,
idempotency records), and keeping them in the composing layer leaves the lower apps
untouched. The owner who creates a token is recorded; the token acts with the rights of
the school's owner only while that person is still the school's active owner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel

TOKEN_NAME_MAX = 80


class ApiToken(TenantModel):
    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    name = models.CharField(max_length=TOKEN_NAME_MAX)
    # Public, random identifier inside the token (``cp_<key_id>_<secret>``): indexed lookup,
    # then a constant-time comparison of the secret's hash. Shown in lists as the prefix.
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the secret part.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return f"cp_{self.key_id}_…"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def is_usable(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)  # type: ignore[operator]


class IdempotencyRecord(TenantModel):
    """The stored answer to a POST sent with an ``Idempotency-Key`` (kept 24 hours).

    Written in the same transaction as the write it answers, so a committed write always
    has its record and a rolled-back one never does.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_unique")
        ]
