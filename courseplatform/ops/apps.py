from typing import Any

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "courseplatform.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from courseplatform.telemetry import queries
        from courseplatform.tenancy.rls import audit_bypasses_with

        from . import tasklog
        from .services import record_audit

        # Every connection counts its statements for the request's or task's log line
        # and the queries-per-request histogram (telemetry/queries.py).
        connection_created.connect(queries.install, dispatch_uid="courseplatform.queries")
        tasklog.connect()

        def audit_bypass(*, actor: Any, reason: str, ip: str | None) -> None:
            record_audit(
                school=None,
                actor=actor,
                action="platform.rls_bypass",
                data={"reason": reason},
                ip=ip,
            )

        audit_bypasses_with(audit_bypass)
