"""Privileges of the runtime and platform roles on PostgreSQL, granted after migrate.

The **runtime** role (``DATABASE_URL``) gets plain DML on tenant tables, never
ownership or DDL, so row-level security binds it; the tables below get less. The
**platform** role (``DATABASE_PLATFORM_URL``, ``BYPASSRLS``) gets DML on every
table but the schema history and the append-only audit log; it is reached only
through ``tenancy.rls.platform_bypass`` and for the task queue's rows. Both are
re-granted from scratch on every ``migrate`` (REVOKE ALL, then GRANT), so what
this module says is what the database holds.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .rls import PLATFORM_ALIAS

DML = "SELECT, INSERT, UPDATE, DELETE"

# Tables every school shares: the runtime role reads all of them and writes none.
GLOBAL_TABLES: dict[str, str] = {
    "django_migrations": "the schema's migration history",
    "django_content_type": "the registry of models (admin log, permissions)",
    "auth_permission": "the registry of model permissions",
    "auth_group": "permission groups; platform-wide, unused by schools",
    "auth_group_permissions": "the permissions of those groups",
    "tenancy_plan": "the plans every school chooses from; only the platform role edits them",
}

# What the runtime role may do where it is not plain DML (tables not listed get DML).
RUNTIME_PRIVILEGES: dict[str, str] = {
    **dict.fromkeys(GLOBAL_TABLES, "SELECT"),
    # Host resolution reads every school before a school is set, a school's context
    # reads only its own row (policy school_read); signup inserts one from the platform
    # host (school_signup); a school may lock, rename, set the time zone and language of
    # and close or
    # reopen (closing_requested_at, purge_after: its owner's closure) only its own row
    # (school_update_own), never change its plan or status (column grant), and no one
    # deletes schools (no grant, no policy): the purge does that as the platform role.
    "tenancy_school": (
        "SELECT, INSERT, UPDATE (name, time_zone, language, closing_requested_at, purge_after, "
        "updated_at)"
    ),
    # Append-only: a trigger also refuses UPDATE/DELETE/TRUNCATE for everyone.
    "ops_auditlog": "SELECT, INSERT",
    # Written by the operator console (platform role) only; readable and deletable
    # (cascade when a user is deleted) through the user's school.
    "django_admin_log": "SELECT, DELETE",
    # Sessions live in Redis on PostgreSQL (settings.SESSION_ENGINE, tenancy/checks.py).
    "django_session": "",
    # Task rows go through the platform role (tenancy.routers.TASK_APP_LABEL).
    "django_tasks_database_dbtaskresult": "",
}

PLATFORM_PRIVILEGES: dict[str, str] = {
    "django_migrations": "SELECT",
    # DELETE only for the purge of a closed school: the append-only trigger refuses it
    # for every row but those of a school whose closure grace period is over
    # (ops/migrations/0004_audit_purge_of_closed_schools.py).
    "ops_auditlog": "SELECT, INSERT, DELETE",
}


def role_of(alias: str) -> str:
    database = settings.DATABASES.get(alias) or {}
    return str(database.get("USER") or "")


def _grant(
    connection: BaseDatabaseWrapper, role: str, exceptions: dict[str, str], tables: list[str]
) -> None:
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
        for table in tables:
            privileges = exceptions.get(table, DML)
            if privileges:
                table_name = connection.ops.quote_name(table)
                cursor.execute(f"GRANT {privileges} ON {table_name} TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")


def grant_privileges(owner_alias: str) -> None:
    """Grant the runtime and platform roles what they need (after migrate)."""
    connection = connections[owner_alias]
    if connection.vendor != "postgresql":
        return
    owner = connection.settings_dict.get("USER") or ""
    tables = connection.introspection.table_names(include_views=False)
    runtime = role_of("default")
    if runtime and runtime != owner:
        _grant(connection, runtime, RUNTIME_PRIVILEGES, tables)
    platform = role_of(PLATFORM_ALIAS)
    if platform and platform not in (owner, runtime):
        _grant(connection, platform, PLATFORM_PRIVILEGES, tables)
