"""Count the SQL statements of one request or task, for its log line and histogram.

A wrapper on every database connection (installed once per connection object through
``connection_created``; ``ops.apps``) adds one to the counter of the current context, if
any. ``counting()`` opens a counter for a request or task and hands back a function
reading it. The cost is one context-variable read per statement; outside a counted
block nothing is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

_current: ContextVar[list[int] | None] = ContextVar("courseplatform_queries", default=None)


def _count(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
    counter = _current.get()
    if counter is not None:
        counter[0] += 1
    return execute(sql, params, many, context)


def install(connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: count this connection's statements from now on.

    The wrapper object is kept across reconnects, so it is added only once."""
    wrappers = connection.execute_wrappers
    if _count not in wrappers:
        wrappers.insert(0, _count)


def start() -> tuple[list[int], Token[list[int] | None]]:
    """Open a counter for the current context; give the token back to ``stop``."""
    counter = [0]
    return counter, _current.set(counter)


def stop(token: Token[list[int] | None]) -> None:
    _current.reset(token)
