from typing import Any

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "courseplatform.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from courseplatform.tenancy.rls import audit_bypasses_with

        from .services import record_audit

        def audit_bypass(*, actor: Any, reason: str, ip: str | None) -> None:
            record_audit(
                school=None,
                actor=actor,
                action="platform.rls_bypass",
                data={"reason": reason},
                ip=ip,
            )

        audit_bypasses_with(audit_bypass)
