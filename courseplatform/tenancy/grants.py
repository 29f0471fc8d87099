"""Privileges of the runtime role on PostgreSQL.

The runtime role gets plain DML on every table, never ownership or DDL, so
``FORCE ROW LEVEL SECURITY`` binds it. The audit log is append-only: SELECT and
INSERT only (and a trigger refuses UPDATE/DELETE for everyone, owner included).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

APPEND_ONLY_TABLES = ("ops_auditlog",)


def runtime_role() -> str:
    return str(settings.DATABASES["default"].get("USER") or "")


def grant_runtime_privileges(owner_alias: str) -> None:
    connection = connections[owner_alias]
    if connection.vendor != "postgresql":
        return
    role = runtime_role()
    owner = connection.settings_dict.get("USER") or ""
    if not role or role == owner:
        return
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
