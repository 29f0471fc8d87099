"""The operator's writes on schools: suspension and plan changes, each audited.

They live in ``ops`` because the audit log does and ``tenancy`` stays below it. Creating
a school with its owner and site is ``onboarding.services.create_school``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import school_context

from .services import record_audit


def set_school_status(
    *, school: School, actor: Any, status: str, reason: str = "", ip: str | None = None
) -> School:
    """Suspend or reactivate ``school``: operator work, inside ``platform_bypass`` (the
    runtime role may not change a school's status)."""
    if status not in School.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    with transaction.atomic():
        previous = school.status
        school.status = status
        school.suspended_reason = reason if status == School.Status.SUSPENDED else ""
        school.save(update_fields=["status", "suspended_reason", "updated_at"])
        action = "school.suspended" if status == School.Status.SUSPENDED else "school.unsuspended"
        with school_context(school):
            record_audit(
                school=school,
                actor=actor,
                action=action,
                target=school,
                data={"from": previous, "reason": reason},
                ip=ip,
            )
    return school


def change_plan(*, school: School, actor: Any, plan: Plan, ip: str | None = None) -> School:
    """Move ``school`` to ``plan``: operator work, inside ``platform_bypass`` (the
    runtime role may not change a school's plan)."""
    with transaction.atomic():
        previous = school.plan.code
        school.plan = plan
        school.save(update_fields=["plan", "updated_at"])
        with school_context(school):
            record_audit(
                school=school,
                actor=actor,
                action="school.plan_changed",
                target=school,
                data={"from": previous, "to": plan.code},
                ip=ip,
            )
    return school
