from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models

from .models import AuditLog

if TYPE_CHECKING:
    from courseplatform.tenancy.models import School


# Who acts on behalf of the actor: set around a request made with an API token, so every
# entry the services record during it names the token as well as its owner (the account).
_acting_through: ContextVar[dict[str, Any] | None] = ContextVar(
    "audit_acting_through", default=None
)


@contextmanager
def acting_through(credential: dict[str, Any]) -> Iterator[None]:
    """Within the block, every audit entry carries ``data["via"] = credential``
    (e.g. ``{"api_token": 12, "name": "CRM sync"}``)."""
    token = _acting_through.set(credential)
    try:
        yield
    finally:
        _acting_through.reset(token)


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
    via = _acting_through.get()
    if via is not None:
        data = {**(data or {}), "via": via}
    return AuditLog.objects.create(
        school=school,
        actor_id=actor_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip=ip,
    )
