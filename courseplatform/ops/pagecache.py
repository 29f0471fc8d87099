"""Visitors' public pages answered from this process's memory, before any other work.

``@public_page`` (``edgecache.py``) already renders a school's public page once and keeps
it in Redis, but a warm hit there still walks the whole middleware chain and makes
three Redis round trips (host tokens, content generation, the page). This middleware
sits first in the chain, right after the request id and the health checks, and keeps
the *finished* responses (every header the chain added: Cache-Control, ETag, Vary,
CSP, the security headers) in a bounded per-process LRU:

* **Who gets it**: GET and HEAD without a query string from a *visitor* — no session
  cookie, no messages cookie (``edgecache.is_visitor``, the same rule as the Redis page
  cache and the edge). Anyone else walks the chain as before and never sees a stored
  answer.
* **What is kept**: only what ``@public_page`` marked as shared (``STORABLE``), answered
  to a GET with status 200, ``public`` in Cache-Control (``SharedCacheGuardMiddleware``
  had its say), an ETag, no cookie set and no CSP nonce. So an unknown host (404), a
  suspended school (403), a redirect to a primary custom domain (301) and every
  personal page are never kept. The key is the raw Host header and the path.
* **How long**: ``PUBLIC_PROCESS_CACHE_SECONDS``, never more than the page's own
  ``s-maxage`` (``edgecache.max_public_lifetime``), and cut further so the signed URLs
  in a page (5 minutes) outlive every cache stacked on it. A CDN in front already
  shows visitors a page up to ``s-maxage`` old, which is why a copy of that age at the
  origin is acceptable too. Within this process a change is seen at once: a content
  generation bump, a school or plan write and a custom-domain change
  (``tenancy.cache_tokens.note_local_change``) make the affected copies stale for the
  next request. Other processes keep theirs until the window ends.
* **How much**: ``PUBLIC_PROCESS_CACHE_BYTES`` per process (body plus headers); the
  least recently used copies go first. 0 seconds or 0 bytes turns it off.
* ``If-None-Match`` with the stored ETag gets ``304 Not Modified``, as from the view.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags

from courseplatform.telemetry.metrics import cache_hit, cache_miss
from courseplatform.tenancy.cache_tokens import changed_here, local_seq

from . import edgecache
from .routes import ROUTE_ATTRIBUTE, route_name

STORABLE = edgecache.PROCESS_CACHEABLE
_NOT_FOR_304 = ("Content-Type", "Content-Length")
_HEADER_OVERHEAD = 64  # bytes counted per header and per entry besides their text


@dataclass(frozen=True)
class _Entry:
    content: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    names: tuple[str, ...]  # what a local change must name to make it stale
    seq: int  # tenancy.cache_tokens.local_seq() when the request that made it began
    expires: float  # time.monotonic()
    size: int
    route: str  # the URL pattern's name, for the request metrics and log line
    school_id: int


class _Store:
    """A thread-safe LRU of entries under a byte budget."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, str], now: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if now >= entry.expires or changed_here(entry.seq, entry.names):
                self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[str, str], entry: _Entry, budget: int) -> None:
        if entry.size > budget:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > budget:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0


_store = _Store()
_clock = time.monotonic  # replaced in tests


def clear() -> None:
    """Forget every copy in this process (tests)."""
    _store.clear()


def stats() -> dict[str, int]:
    return {"entries": len(_store), "bytes": _store.size, "hits": _store.hits,
            "misses": _store.misses}  # fmt: skip


def window_seconds() -> int:
    """How long a copy is answered: the setting, at most the page's ``s-maxage``, and
    short enough that server cache + this copy + the edge's lifetimes stay inside the
    signed URLs' lifetime (``edgecache.max_public_lifetime``)."""
    fresh, stale = edgecache.max_public_lifetime()
    room = edgecache.signed_url_budget() - 2 * fresh - stale
    return max(0, min(settings.PUBLIC_PROCESS_CACHE_SECONDS, fresh, room))


def _answer(request: HttpRequest, entry: _Entry) -> HttpResponseBase:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header:
        tags = parse_etags(header)
        if "*" in tags or entry.etag in tags:
            not_modified = HttpResponseNotModified()
            for name, value in entry.headers:
                if name not in _NOT_FOR_304:
                    not_modified[name] = value
            return not_modified
    response = HttpResponse(entry.content)
    for name, value in entry.headers:
        response[name] = value
    return response


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    return bool(
        getattr(request, STORABLE, False)
        and request.method == "GET"
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "public" in response.get("Cache-Control", "")
        and response.has_header("ETag")
        and "nonce-" not in response.get("Content-Security-Policy", "")
        and getattr(request, "school", None) is not None
    )


class ProcessPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method not in ("GET", "HEAD")
            or request.META.get("QUERY_STRING")
            or not edgecache.is_visitor(request)
        ):
            return self.get_response(request)
        window = window_seconds()
        budget = settings.PUBLIC_PROCESS_CACHE_BYTES
        if window <= 0 or budget <= 0:
            return self.get_response(request)
        key = (request.META.get("HTTP_HOST", ""), request.path)
        now = _clock()
        entry = _store.get(key, now)
        if entry is not None:
            cache_hit("page_process")
            # Answered before URL resolution: the metrics and the log line still get
            # the route and the school the copy was made for.
            setattr(request, ROUTE_ATTRIBUTE, entry.route)
            structlog.contextvars.bind_contextvars(school_id=entry.school_id)
            return _answer(request, entry)
        seq = local_seq()  # before the chain reads anything the copy is made from
        response = self.get_response(request)
        if _storable(request, response):
            assert isinstance(response, HttpResponse)
            # Counted only for pages that could have been answered from here.
            cache_miss("page_process")
            school = request.school  # type: ignore[attr-defined]
            headers = tuple(response.items())
            content = response.content
            _store.put(
                key,
                _Entry(
                    content=content,
                    headers=headers,
                    etag=response["ETag"],
                    names=(f"school:{school.pk}", f"slug:{school.slug}"),
                    seq=seq,
                    expires=now + window,
                    size=len(content)
                    + sum(len(n) + len(v) + _HEADER_OVERHEAD for n, v in headers)
                    + len(key[0])
                    + len(key[1])
                    + _HEADER_OVERHEAD,
                    route=route_name(request),
                    school_id=school.pk,
                ),
                budget,
            )
        return response
