"""Requests per week for the operator console, without a write per request.

Each web process counts the requests it answers in memory, by the UTC week (starting
on Monday) they were answered in: one ``time.time()`` and a dict increment under a
lock. At most once every ``REQUEST_COUNT_FLUSH_SECONDS`` (default 60) the request that
finds the deadline passed adds the process's counts to one cache key per week
(``INCRBY`` on Redis, so every process and host adds into the same figure) and starts
again from zero; a process that exits flushes what it has (``atexit``, best effort).
Probes and scrapes (``/healthz``, ``/readyz``, ``/metrics``) are not counted: they are
the infrastructure looking at us, not use of the platform.

A flush that fails (Redis away) keeps the counts for the next one. What a process
counted since its last flush is not yet visible, so the current week lags by up to a
minute per busy process (one that goes quiet keeps its counts until its next request);
a process killed with SIGKILL loses them.
"""

from __future__ import annotations

import atexit
import datetime
import threading
import time
from collections.abc import Sequence

import structlog
from django.conf import settings
from django.core.cache import cache

log = structlog.get_logger(__name__)

NOT_COUNTED = frozenset({"healthz", "readyz", "metrics"})
KEEP_SECONDS = 400 * 86400  # comfortably more than any range the console shows
_EPOCH_MONDAY = datetime.date(1970, 1, 5)  # day 4 of the Unix epoch; weeks start here

_lock = threading.Lock()
_pending: dict[int, int] = {}  # week number since _EPOCH_MONDAY -> requests
_deadline = 0.0  # time.monotonic() after which the next counted request flushes


def week_number(unix_seconds: float) -> int:
    """The UTC week (Monday to Sunday) of a moment, counted from 1970-01-05."""
    return (int(unix_seconds) // 86400 - 4) // 7


def week_start(number: int) -> datetime.date:
    return _EPOCH_MONDAY + datetime.timedelta(weeks=number)


def _key(week: datetime.date) -> str:
    return f"requests:week:{week.isoformat()}"


def count_request() -> None:
    """Count one request answered now; flush the process's counts when they are due."""
    global _deadline
    week = week_number(time.time())
    with _lock:
        _pending[week] = _pending.get(week, 0) + 1
        if time.monotonic() < _deadline:
            return
        batch = _take_locked()
    _write(batch)


def flush() -> None:
    """Add this process's counts to the shared figures now (tests, process exit)."""
    with _lock:
        batch = _take_locked()
    _write(batch)


def _take_locked() -> dict[int, int]:
    global _pending, _deadline
    batch, _pending = _pending, {}
    _deadline = time.monotonic() + settings.REQUEST_COUNT_FLUSH_SECONDS
    return batch


def _write(batch: dict[int, int]) -> None:
    unwritten = dict(batch)
    try:
        for week, requests in batch.items():
            key = _key(week_start(week))
            if not cache.add(key, requests, timeout=KEEP_SECONDS):
                try:
                    cache.incr(key, requests)
                except ValueError:  # expired between the add and the incr
                    cache.add(key, requests, timeout=KEEP_SECONDS)
            del unwritten[week]
    except Exception as exc:  # the cache is down: keep the counts for the next flush
        with _lock:
            for week, requests in unwritten.items():
                _pending[week] = _pending.get(week, 0) + requests
        log.warning("requests.flush_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def weekly(starts: Sequence[datetime.date]) -> list[float]:
    """Requests answered in each week starting on the given Mondays (one cache read)."""
    found = cache.get_many([_key(start) for start in starts])
    return [float(found.get(_key(start)) or 0) for start in starts]


# A process that ends normally hands on what it counted (``_write`` never raises).
atexit.register(flush)
