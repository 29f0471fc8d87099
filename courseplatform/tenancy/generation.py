"""A school's *content generation*: one random token in Redis per school, replaced on
every change to what its pages show (pages, theme, courses, sections, lessons, files,
instructors, people's names, videos).

Every cached rendering of a school's pages carries the token in its cache key (public
pages and their fragments: ``ops/edgecache.py``, ``sites``; logged-in pages may use it
too), so one ``bump_content_generation`` makes all of them stale at once, without
finding and deleting them. This is the one counter for that: do not add another.

Lives in tenancy, the ground floor, so every app can bump and read it; the apps that
own the data connect their models (``sites/signals.py``). A missing token (evicted,
flushed) is simply made anew: that costs renderings, never shows stale content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

from .broadcast import announce_change
from .cache_tokens import current_token, replace_token

TOKEN_TTL = 7 * 24 * 3600


def _key(school_id: int) -> str:
    return f"tenancy:content-generation:{school_id}"


# Within one request the token is read from Redis once: a page asks for it several
# times (theme, menu, course tree, lesson body), each a Redis round trip otherwise.
_per_request: ContextVar[dict[int, str] | None] = ContextVar("content_generation", default=None)


@contextmanager
def read_once_per_request() -> Iterator[None]:
    """Remember each school's token for the rest of this request (TenantMiddleware).
    A bump made meanwhile (in this thread) forgets it, so the request sees its own
    changes; a change made elsewhere shows from the next request on."""
    token = _per_request.set({})
    try:
        yield
    finally:
        _per_request.reset(token)


def content_generation(school_id: int) -> str:
    """The school's current token (one Redis round trip, once per request)."""
    remembered = _per_request.get()
    if remembered is not None and school_id in remembered:
        return remembered[school_id]
    key = _key(school_id)
    value = current_token(key, cache.get(key), ttl=TOKEN_TTL)
    if remembered is not None:
        remembered[school_id] = value
    return value


def _replace(school_id: int) -> None:
    replace_token(_key(school_id), ttl=TOKEN_TTL)
    remembered = _per_request.get()
    if remembered is not None:
        remembered.pop(school_id, None)
    announce_change(f"school:{school_id}")


def bump_content_generation(school_id: int | None) -> None:
    """Everything cached for this school's pages is stale: now, and again after the
    transaction commits (a request that read the old rows meanwhile must not keep
    its rendering under the new token)."""
    if not school_id:
        return
    _replace(school_id)
    transaction.on_commit(lambda: _replace(school_id))
