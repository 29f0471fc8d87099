"""Row-level security: the database-side half of tenant isolation.

Every tenant table carries a policy that compares its ``school_id`` with the
session setting ``app.school_id``. The request middleware and every task enter
``school_context(school)``, which makes that the school of every statement the block
runs and restores the previous one on exit (also on exceptions); the database backend
(``tenancy/postgresql/base.py``) carries the value to the server in the same round trip
as the first statement that needs it. No policy has a way around it: the runtime role
(``DATABASE_URL``) can set any session setting it likes and still sees only the
school in ``app.school_id``.

Platform-wide work (operator console, video watchdog, maintenance commands)
runs inside ``platform_bypass``: the one way around the policies, audited each
time. Inside it the default connection *is* the platform role's connection
(``DATABASE_PLATFORM_URL``, a role with ``BYPASSRLS``), so the ORM, raw cursors,
``transaction.atomic()`` and ``select_for_update()`` all use it unchanged; a
``school_context`` inside it switches back to the runtime connection.

On SQLite (the embedded default) none of this exists in the database: there is
one connection and the scoped selectors are the only guard.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, migrations
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from .models import School

SCHOOL_SETTING = "app.school_id"
# The connection alias of the BYPASSRLS role; see settings.DATABASES.
PLATFORM_ALIAS = "platform"

_NO_SCHOOL = None
_current_school_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_school_id", default=_NO_SCHOOL
)
# True inside platform_bypass (and not in a school_context within it).
_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("rls_bypass", default=False)
# Connections are per thread (Django keeps them in a thread-local), so is the
# record of which runtime connection the platform one has displaced.
_displaced = threading.local()

CURRENT_SCHOOL_SQL = f"NULLIF(current_setting('{SCHOOL_SETTING}', true), '')::bigint"


def current_school_id() -> int | None:
    return _current_school_id.get()


def bypass_active() -> bool:
    return _bypass.get()


def platform_alias_configured() -> bool:
    return PLATFORM_ALIAS in settings.DATABASES


def _displaced_stack() -> list[BaseDatabaseWrapper]:
    stack: list[BaseDatabaseWrapper] | None = getattr(_displaced, "stack", None)
    if stack is None:
        stack = _displaced.stack = []
    return stack


def _runtime_connection() -> BaseDatabaseWrapper:
    """The runtime role's connection, even while the platform one sits in its place."""
    current = connections[DEFAULT_DB_ALIAS]
    if current.alias == DEFAULT_DB_ALIAS:
        return current
    for wrapper in reversed(_displaced_stack()):
        if wrapper.alias == DEFAULT_DB_ALIAS:
            return wrapper
    raise RuntimeError("the runtime connection was displaced and lost")  # pragma: no cover


@contextmanager
def _as_default_connection(wrapper: BaseDatabaseWrapper) -> Iterator[None]:
    previous = connections[DEFAULT_DB_ALIAS]
    if previous is wrapper:
        yield
        return
    stack = _displaced_stack()
    stack.append(previous)
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = previous
        stack.pop()


@contextmanager
def school_context(school: School | int | None) -> Iterator[None]:
    """Run the block as ``school`` (an instance, an id, or None for the platform).

    Always on the runtime connection, also when entered inside ``platform_bypass``.
    Entering and leaving send nothing: the database backend
    (``tenancy/postgresql/base.py``) sends the school with the next statement whenever
    the connection does not already hold it, so every statement runs as the school of
    the context that issued it.
    """
    school_id = school if isinstance(school, int) or school is None else school.pk
    token = _current_school_id.set(school_id)
    bypass_token = _bypass.set(False)
    try:
        with _as_default_connection(_runtime_connection()):
            yield
    finally:
        _current_school_id.reset(token)
        _bypass.reset(bypass_token)


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
    """Run the block as the platform role (``BYPASSRLS``): every school's rows.

    Audited through the auditor ops hands in (refused without one). ``audit=False``
    is only for a read-only scan run on a timer (the video watchdog, every minute)
    whose caller records an audit entry itself when the scan leads it to change
    something, so that idle runs do not fill the audit log. On PostgreSQL it needs
    the ``platform`` connection alias (``DATABASE_PLATFORM_URL``); the runtime role
    cannot lift the policies itself.
    """
    if _bypass_auditor is None:
        raise RuntimeError("RLS bypasses must be audited, and no auditor is set (ops sets it).")
    runtime = _runtime_connection()
    if runtime.vendor == "postgresql" and not platform_alias_configured():
        raise ImproperlyConfigured(
            "Platform-wide work needs DATABASE_PLATFORM_URL (a PostgreSQL role with "
            "BYPASSRLS; scripts/pg_roles.py creates it)."
        )
    if audit:
        _bypass_auditor(actor=actor, reason=reason, ip=ip)
    platform = connections[PLATFORM_ALIAS] if platform_alias_configured() else runtime
    token = _bypass.set(True)
    try:
        with _as_default_connection(platform):
            yield
    finally:
        _bypass.reset(token)


# --- migrations --------------------------------------------------------------


def _isolation_sql(table: str, condition: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS school_isolation ON "{table}"',
        f'CREATE POLICY school_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition})',
    ]


def policy_sql(table: str, *, nullable_school: bool = False) -> list[str]:
    # Nullable school keys (users, audit log) hold platform rows with NULL: those are
    # visible only when no school is set, hence IS NOT DISTINCT FROM.
    condition = (
        f"school_id IS NOT DISTINCT FROM {CURRENT_SCHOOL_SQL}"
        if nullable_school
        else f"school_id = {CURRENT_SCHOOL_SQL}"
    )
    return _isolation_sql(table, condition)


def policy_through_sql(table: str, *, column: str, parent_table: str) -> list[str]:
    """A row is visible and writable exactly when the ``parent_table`` row it points
    at is: for tables keyed only through another tenant table (a user's groups)."""
    # Table names come from migrations, never from input.
    condition = (
        f'EXISTS (SELECT 1 FROM "{parent_table}" parent '  # noqa: S608
        f'WHERE parent.id = "{table}"."{column}")'
    )
    return _isolation_sql(table, condition)


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
