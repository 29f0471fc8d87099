from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from .models import AuditLog

if TYPE_CHECKING:
    from courseplatform.tenancy.models import School


def record_audit(
    *,
    school: School | None,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Append one audit entry. ``actor`` may be None or an anonymous user."""
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    return AuditLog.objects.create(
        school=school,
        actor_id=actor_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip=ip,
    )
