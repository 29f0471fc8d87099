"""Django's PostgreSQL backend, carrying the request's school to the server for free.

Row-level security reads the session setting ``app.school_id`` (``tenancy.rls``). Setting
it with its own statements on entering and leaving every ``school_context`` cost two
round trips per request, and Django's health check a third. This backend instead:

* remembers, per psycopg connection, which school the server session is known to hold;
* before each statement on the runtime role's connection compares that with the school
  of the running context (``rls.current_school_id()``) and, when they differ or the
  server's value is not known for sure, sends ``SELECT set_config(...)`` in the **same
  message** as the statement (the simple query protocol runs both, in order, in one
  round trip; psycopg's client-side binding cursor, Django's default, uses it);
* forgets what it knew whenever the server may have dropped the value: a new connection,
  any error, a ``ROLLBACK`` (a setting made inside a transaction or savepoint that is
  rolled back reverts), the end of any transaction in which it set the value, and any
  statement of ours or yours that could change settings (``SET``, ``RESET``,
  ``DISCARD``, ``set_config``). Unknown means "send it again", never "assume".

So every statement runs under the school of the code that issued it, whatever the
connection did before (another school's request, an exception mid-request), and a
request whose context does not change what the connection already holds sends nothing
extra. ``is_usable`` (the health check before a reused connection's first statement in
a request) looks at the socket instead of sending ``SELECT 1``; it asks the server only
when something arrived unasked (a termination notice, EOF).

Only connections whose settings carry ``OPTIONS["school_setting"] = True`` (the runtime
role's, ``DATABASES["default"]``) do any of this; the owner and platform roles bypass
row-level security and get the plain backend behaviour.
"""

from __future__ import annotations

import re
import select
from typing import TYPE_CHECKING, Any

import psycopg
from django.db.backends.postgresql import base as postgresql
from psycopg import pq

from courseplatform.tenancy import rls

if TYPE_CHECKING:
    _ClientCursor = psycopg.ClientCursor[Any]
    _ServerSideCursor = psycopg.ServerCursor[Any]
else:  # Django's cursors (callproc; client-side binding for named cursors too)
    _ClientCursor = postgresql.Cursor
    _ServerSideCursor = postgresql.ServerSideCursor

SCHOOL_SETTING_OPTION = "school_setting"
# The attribute on a psycopg connection holding its _SchoolState (absent: not tracked).
_STATE = "_cp_school_state"
_UNKNOWN = object()
# Statements after which the server's value of app.school_id is no longer certain.
_MAY_CHANGE_SETTINGS = re.compile(
    r"^\s*(set|reset|discard|rollback)\b|set_config|app\.school_id", re.IGNORECASE
)


_TRANSACTION_CONTROL = re.compile(
    r"\s*(rollback|savepoint|release|commit|begin|start\s+transaction)\b", re.IGNORECASE
)


class _SchoolState:
    __slots__ = ("known", "set_in_transaction")

    def __init__(self) -> None:
        # The app.school_id the server session holds ("" = none), or _UNKNOWN.
        self.known: object = _UNKNOWN
        # The value was last sent inside a transaction: its end may have undone it.
        self.set_in_transaction = False


def _wanted() -> str:
    school_id = rls.current_school_id()
    return "" if school_id is None else str(int(school_id))


def _set_sql(value: str) -> str:
    # value is "" or the digits of an int (see _wanted): nothing to quote.
    return f"SELECT set_config('{rls.SCHOOL_SETTING}', '{value}', false)"


def _value_to_send(conn: Any, query: Any = None) -> str | None:
    """The value to send before the next statement, or None when the server holds it
    (or the statement reads no rows: transaction control, which must also work in an
    aborted transaction, where any other statement fails)."""
    state: _SchoolState | None = getattr(conn, _STATE, None)
    if state is None:
        return None
    if isinstance(query, str) and _TRANSACTION_CONTROL.match(query):
        return None
    if conn.info.transaction_status == pq.TransactionStatus.INERROR:
        return None
    if state.set_in_transaction and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        # The transaction it was sent in has ended, committed or rolled back (also with
        # autocommit off, where the next one has not begun yet): no longer certain.
        state.known, state.set_in_transaction = _UNKNOWN, False
    wanted = _wanted()
    return None if state.known == wanted else wanted


def _after(conn: Any, sent: str | None, query: Any, *, ok: bool) -> None:
    state: _SchoolState | None = getattr(conn, _STATE, None)
    if state is None:
        return
    if not ok or (isinstance(query, str) and _MAY_CHANGE_SETTINGS.search(query)):
        state.known, state.set_in_transaction = _UNKNOWN, False
    elif sent is not None:
        state.known = sent
        # In autocommit mode the set_config and the statement ran as one implicit
        # transaction that has committed: the value stays. Inside a transaction it
        # lasts only if that transaction commits.
        status = conn.info.transaction_status
        state.set_in_transaction = status != pq.TransactionStatus.IDLE


def send_school_setting(conn: Any) -> None:
    """Bring the server's value up to date with its own statement (when it cannot ride
    along: executemany, server-side cursors)."""
    value = _value_to_send(conn)
    if value is None:
        return
    try:
        with psycopg.ClientCursor(conn) as cursor:
            cursor.execute(_set_sql(value))
    except BaseException:
        _after(conn, value, None, ok=False)
        raise
    _after(conn, value, None, ok=True)


class SchoolSettingCursor(_ClientCursor):
    """psycopg's client-side binding cursor that sends the school setting along."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        conn = self.connection
        value = _value_to_send(conn, query)
        if value is None:
            try:
                result = super().execute(query, params, **kwargs)
            except BaseException:
                _after(conn, None, query, ok=False)
                raise
            _after(conn, None, query, ok=True)
            return result
        if not isinstance(query, str) or kwargs.get("prepare") or kwargs.get("binary"):
            # The extended protocol runs one statement per message: send it on its own.
            send_school_setting(conn)
            return self.execute(query, params, **kwargs)
        try:
            super().execute(f"{_set_sql(value)}; {query}", params, **kwargs)
        except BaseException:
            _after(conn, value, query, ok=False)
            raise
        self.nextset()  # the statement's own result, after set_config's
        _after(conn, value, query, ok=True)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
        send_school_setting(self.connection)
        try:
            return super().executemany(query, params_seq, **kwargs)
        except BaseException:
            _after(self.connection, None, query, ok=False)
            raise


class SchoolSettingServerSideCursor(_ServerSideCursor):
    """A named (server-side) cursor: its DECLARE is sent after the setting."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        send_school_setting(self.connection)
        try:
            return super().execute(query, params, **kwargs)
        except BaseException:
            _after(self.connection, None, query, ok=False)
            raise


class DatabaseWrapper(postgresql.DatabaseWrapper):  # type: ignore[misc]
    def _tracks_school(self) -> bool:
        return bool(self.settings_dict["OPTIONS"].get(SCHOOL_SETTING_OPTION))

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params.pop(SCHOOL_SETTING_OPTION, None)
        if self._tracks_school():
            params["cursor_factory"] = SchoolSettingCursor
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if self._tracks_school():
            # Also for a pooled connection handed out again: what it holds is unknown.
            setattr(connection, _STATE, _SchoolState())
        return connection

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        if name and self._tracks_school():
            cursor.__class__ = SchoolSettingServerSideCursor
        return cursor

    def _rollback(self) -> None:
        # A setting sent inside the transaction reverts with it.
        if self.connection is not None and (state := getattr(self.connection, _STATE, None)):
            state.known, state.set_in_transaction = _UNKNOWN, False
        super()._rollback()  # type: ignore[misc]

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.pgconn.status != pq.ConnStatus.OK:
            return False
        if connection.info.transaction_status == pq.TransactionStatus.UNKNOWN:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        # An idle connection receives nothing unless the server is going away (a
        # termination notice, EOF): only then is a real round trip worth it.
        return bool(super().is_usable()) if readable else True
