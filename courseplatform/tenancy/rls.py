"""Row-level security: the database-side half of tenant isolation.

Every tenant table carries a policy that compares its ``school_id`` with the
session setting ``app.school_id``. The request middleware and every task enter
``school_context(school)``, which sets that value and restores the previous one
on exit (also on exceptions). Platform-wide work uses ``platform_bypass``: the
one explicit way around the policies, and it writes an audit entry each time.

On SQLite (the embedded default) none of this exists in the database; the
scoped selectors are the only guard there.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connections, migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

if TYPE_CHECKING:
    from .models import School

SCHOOL_SETTING = "app.school_id"
BYPASS_SETTING = "app.rls_bypass"

_NO_SCHOOL = None
_current_school_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_school_id", default=_NO_SCHOOL
)
_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("rls_bypass", default=False)

_CURRENT = f"NULLIF(current_setting('{SCHOOL_SETTING}', true), '')::bigint"
_BYPASS = f"current_setting('{BYPASS_SETTING}', true) = 'on'"


def current_school_id() -> int | None:
    return _current_school_id.get()


def bypass_active() -> bool:
    return _bypass.get()


def _apply(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "postgresql":
        return
    school_id = _current_school_id.get()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
            [
                SCHOOL_SETTING,
                "" if school_id is None else str(school_id),
                BYPASS_SETTING,
                "on" if _bypass.get() else "off",
            ],
        )


def _apply_to_open_connections() -> None:
    # Only the runtime connection carries tenant traffic; the owner alias is for DDL.
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    try:
        connection.ensure_connection()
        _apply(connection)
    except Exception:
        # A connection whose setting we could not change must never be reused with
        # a stale school: drop it, the next one starts clean via connection_created.
        connection.close()
        raise


@receiver(connection_created)
def _reapply_on_new_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # A connection opened mid-request (reconnect after an error, a new thread)
    # must carry the same school; without this it would see nothing at all.
    if connection.alias == "default":
        _apply(connection)


@contextmanager
def school_context(school: School | int | None) -> Iterator[None]:
    """Run the block as ``school`` (an instance, an id, or None for the platform)."""
    school_id = school if isinstance(school, int) or school is None else school.pk
    token = _current_school_id.set(school_id)
    bypass_token = _bypass.set(False)
    try:
        _apply_to_open_connections()
        yield
    finally:
        _current_school_id.reset(token)
        _bypass.reset(bypass_token)
        _apply_to_open_connections()


# The audit log lives in ``ops``, above tenancy: ops hands in the function that records a
# bypass (OpsConfig.ready), and a bypass without one is refused rather than left unaudited.
_bypass_auditor: Callable[..., Any] | None = None


def audit_bypasses_with(auditor: Callable[..., Any]) -> None:
    """Record every ``platform_bypass`` with ``auditor(actor=..., reason=..., ip=...)``."""
    global _bypass_auditor
    _bypass_auditor = auditor


@contextmanager
def platform_bypass(
    *, actor: Any, reason: str, ip: str | None = None, audit: bool = True
) -> Iterator[None]:
    """Lift row-level security for platform-wide work; audited.

    ``audit=False`` is only for a read-only scan run on a timer (the video watchdog,
    every minute) whose caller records an audit entry itself when the scan leads it
    to change something, so that idle runs do not fill the audit log.
    """
    if _bypass_auditor is None:
        raise RuntimeError("RLS bypasses must be audited, and no auditor is set (ops sets it).")
    if audit:
        _bypass_auditor(actor=actor, reason=reason, ip=ip)
    token = _bypass.set(True)
    try:
        _apply_to_open_connections()
        yield
    finally:
        _bypass.reset(token)
        _apply_to_open_connections()


# --- migrations --------------------------------------------------------------


def policy_sql(table: str, *, nullable_school: bool = False) -> list[str]:
    # Nullable school keys (users, audit log) hold platform rows with NULL: those are
    # visible only when no school is set, hence IS NOT DISTINCT FROM.
    match = (
        f"school_id IS NOT DISTINCT FROM {_CURRENT}"
        if nullable_school
        else f"school_id = {_CURRENT}"
    )
    condition = f"({match}) OR {_BYPASS}"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS school_isolation ON "{table}"',
        f'CREATE POLICY school_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition})',
    ]


def enable_rls(table: str, *, nullable_school: bool = False) -> migrations.RunPython:
    """Migration operation: put ``table`` under the school isolation policy."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in policy_sql(table, nullable_school=nullable_school):
            schema_editor.execute(statement)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f'DROP POLICY IF EXISTS school_isolation ON "{table}"')
        schema_editor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        schema_editor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')

    return migrations.RunPython(forwards, backwards, elidable=False)
