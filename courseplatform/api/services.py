"""Writes of the API app: tokens (created and revoked by the school owner) and the
stored answers of idempotent POSTs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.tenancy.models import School

from .models import TOKEN_NAME_MAX, ApiToken, IdempotencyRecord

TOKEN_PREFIX = "cp"


def hash_secret(secret: str) -> str:
    # The secret has 256 random bits: a plain SHA-256 cannot be brute-forced, and unlike
    # a password hash it costs nothing per request.
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(raw: str) -> tuple[str, str] | None:
    """``cp_<key_id>_<secret>`` → (key_id, secret), or None when it has another shape."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    key_id, secret = parts[1], parts[2]
    if len(key_id) > 16 or len(secret) > 100 or not key_id.isalnum():
        return None
    return key_id, secret


def secret_matches(token: ApiToken, secret: str) -> bool:
    return hmac.compare_digest(token.secret_hash, hash_secret(secret))


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


def create_token(
    *,
    school: School,
    actor: User,
    name: str,
    scope: str,
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> NewToken:
    permissions.require_school_owner(
        school, actor, message=_("Only the school owner manages API tokens.")
    )
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the token a name, e.g. “CRM sync”.")
    elif len(name) > TOKEN_NAME_MAX:
        errors["name"] = _("Use at most %(limit)d characters.") % {"limit": TOKEN_NAME_MAX}
    if scope not in ApiToken.Scope.values:
        errors["scope"] = _("Choose read or write.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    validate_single_line(name, field="name")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            school=school,
            name=name,
            key_id=key_id,
            secret_hash=hash_secret(secret),
            scope=scope,
            expires_at=expires_at,
            created_by=actor,
        )
        record_audit(
            school=school,
            actor=actor,
            action="api.token_created",
            target=token,
            data={"name": name, "scope": scope},
            ip=ip,
        )
    return NewToken(token, f"{TOKEN_PREFIX}_{key_id}_{secret}")


def revoke_token(
    *, school: School, actor: User, token: ApiToken, ip: str | None = None
) -> ApiToken:
    permissions.require_school_owner(
        school, actor, token, message=_("Only the school owner manages API tokens.")
    )
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_audit(
                school=school,
                actor=actor,
                action="api.token_revoked",
                target=token,
                data={"name": token.name},
                ip=ip,
            )
    return token


def note_token_use(*, token: ApiToken, ip: str | None) -> None:
    """Remember when and from where a token was last used, at most once per
    ``API_TOKEN_LAST_USED_INTERVAL`` seconds (or when the address changes), so a busy
    integration does not write a row on every request."""
    now = timezone.now()
    interval = timedelta(seconds=settings.API_TOKEN_LAST_USED_INTERVAL)
    if token.last_used_at and token.last_used_at > now - interval and token.last_used_ip == ip:
        return
    ApiToken.objects.filter(school_id=token.school_id, pk=token.pk).update(
        last_used_at=now, last_used_ip=ip
    )
    token.last_used_at, token.last_used_ip = now, ip


# --- idempotency ----------------------------------------------------------------------------

IDEMPOTENCY_TTL = timedelta(hours=24)


def idempotency_fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def find_idempotent_answer(*, token: ApiToken, key: str) -> IdempotencyRecord | None:
    """The live record of ``key`` for this token; expired ones of the token are removed
    on the way (cleanup without a scheduler; ``expire_api_idempotency_keys`` sweeps
    tokens that are no longer used)."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    IdempotencyRecord.objects.filter(
        school_id=token.school_id, token=token, created_at__lt=cutoff
    ).delete()
    return IdempotencyRecord.objects.filter(school_id=token.school_id, token=token, key=key).first()


def store_idempotent_answer(
    *,
    token: ApiToken,
    key: str,
    fingerprint: str,
    status_code: int,
    content_type: str,
    body: bytes,
) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        school_id=token.school_id,
        token=token,
        key=key,
        fingerprint=fingerprint,
        status_code=status_code,
        content_type=content_type,
        body=body,
    )


def expire_idempotency_records() -> int:
    """Delete every record older than 24 hours (run inside ``platform_bypass``)."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    return deleted
