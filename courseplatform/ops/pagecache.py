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
  personal page are never kept. The key is the raw Host header, the path and the
  visitor's language hint (cookie or browser: ``tenancy.languages.visitor_language``).
* **How long**: a page that holds nothing that expires (covers and the logo have stable
  URLs; ``edgecache`` records whether the rendering minted a signed URL) lives until its
  school changes, at most ``PUBLIC_PAGE_LIFETIME_SECONDS``, *while this process hears
  every change*: writers announce each content-generation bump, school or plan write and
  custom-domain change through Redis (``tenancy.broadcast``), and this process's listener
  notes them (``tenancy.cache_tokens.note_local_change``), which makes the affected
  copies stale for the next request. A copy made before a break in listening, or made
  while not listening (Redis unreachable, no Redis), and any page with expiring URLs
  (a video block's poster) live only ``window_seconds()``: ``PUBLIC_PROCESS_CACHE_SECONDS``,
  never more than the page's own ``s-maxage``, and cut so the signed URLs in a page
  (5 minutes) outlive every cache stacked on it — what a CDN in front shows visitors
  anyway. A change made in this process is seen at once in every case.
* **How much**: ``PUBLIC_PROCESS_CACHE_BYTES`` per process (body plus headers); the
  least recently used copies go first. 0 seconds or 0 bytes turns it off.
* ``If-None-Match`` with the stored ETag gets ``304 Not Modified``, as from the view.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags

from courseplatform.telemetry.metrics import (
    PAGE_PROCESS_CACHE_BYTES,
    PAGE_PROCESS_CACHE_ENTRIES,
    PAGE_PROCESS_CACHE_EVICTIONS,
    cache_hit,
    cache_miss,
)
from courseplatform.tenancy.broadcast import ensure_listening, listening_epoch
from courseplatform.tenancy.cache_tokens import changed_here, local_seq
from courseplatform.tenancy.languages import visitor_language

from . import edgecache
from .routes import ROUTE_ATTRIBUTE, route_name

STORABLE = edgecache.PROCESS_CACHEABLE
_NOT_FOR_304 = frozenset({"content-type", "content-length", "content-encoding"})
_ENTRY_OVERHEAD = 400  # bytes counted per entry besides its body and key (measured)


@dataclass(frozen=True, slots=True)
class _Entry:
    gzipped: bytes  # the body, gzip-compressed (about a quarter of it)
    length: int  # the body's own length
    shared: dict[str, tuple[str, str]]  # the other headers, interned (``_shared_headers``)
    etag: str  # of the body; the gzip copy's is ``edgecache.gzip_etag(etag)``
    names: tuple[str, ...]  # what a local change must name to make it stale
    seq: int  # tenancy.cache_tokens.local_seq() when the request that made it began
    epoch: int | None  # tenancy.broadcast.listening_epoch() then (None: not listening)
    fresh_until: float  # time.monotonic(): the short window, whatever is heard
    expires: float  # the long lifetime, while the epoch lasts
    size: int
    route: str  # the URL pattern's name, for the request metrics and log line
    school_id: int


# Headers every copy has its own value of; the rest are the same for most pages (CSP,
# security headers, Cache-Control, Vary) and are kept once (``_shared_headers``).
_OWN_HEADERS = frozenset({"etag", "content-length", "content-encoding"})
_SHARED_LIMIT = 4096  # distinct header sets interned; past that each copy keeps its own
_shared: dict[tuple[tuple[str, str], ...], dict[str, tuple[str, str]]] = {}
_GZIP = re.compile(r"\bgzip\b")


def _shared_headers(response: HttpResponse) -> dict[str, tuple[str, str]]:
    """The response's headers but its own (ETag, lengths), as Django's header store
    holds them (lower-case name -> (name, value), already checked): one object for all
    copies with the same set, copied into each answer without checking them again."""
    items = tuple(
        (name, value) for name, value in response.items() if name.lower() not in _OWN_HEADERS
    )
    found = _shared.get(items)
    if found is None:
        found = {name.lower(): (name, value) for name, value in items}
        if len(_shared) < _SHARED_LIMIT:
            _shared[items] = found
    return found


class _Store:
    """A thread-safe LRU of entries under a byte budget."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, str, str], now: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if (
                now >= entry.expires
                or (
                    now >= entry.fresh_until
                    and (entry.epoch is None or entry.epoch != listening_epoch())
                )
                or changed_here(entry.seq, entry.names)
            ):
                self._drop(key)
                self._publish()
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[str, str, str], entry: _Entry, budget: int) -> None:
        if entry.size > budget:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > budget:
                self._drop(next(iter(self._entries)))
                self.evictions += 1
                PAGE_PROCESS_CACHE_EVICTIONS.inc()
            self._publish()

    def _publish(self) -> None:
        # Only on a store or a drop (a miss), never on a hit: two writes to the metrics.
        PAGE_PROCESS_CACHE_ENTRIES.set(len(self._entries))
        PAGE_PROCESS_CACHE_BYTES.set(self._bytes)

    def _drop(self, key: tuple[str, str, str]) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = self.evictions = 0
            self._publish()


_store = _Store()
_clock = time.monotonic  # replaced in tests


def clear() -> None:
    """Forget every copy in this process (tests)."""
    _store.clear()


def stats() -> dict[str, int]:
    return {"entries": len(_store), "bytes": _store.size, "hits": _store.hits,
            "misses": _store.misses, "evictions": _store.evictions}  # fmt: skip


def window_seconds() -> int:
    """How long a copy is answered: the setting, at most the page's ``s-maxage``, and
    short enough that server cache + this copy + the edge's lifetimes stay inside the
    signed URLs' lifetime (``edgecache.max_public_lifetime``)."""
    fresh, stale = edgecache.max_public_lifetime()
    room = edgecache.signed_url_budget() - 2 * fresh - stale
    return max(0, min(settings.PUBLIC_PROCESS_CACHE_SECONDS, fresh, room))


def lifetime_seconds() -> int:
    """How long a copy of a page without expiring URLs lives while this process hears
    every change (``tenancy.broadcast``)."""
    return max(window_seconds(), settings.PUBLIC_PAGE_LIFETIME_SECONDS)


def _answer(request: HttpRequest, entry: _Entry) -> HttpResponseBase:
    gzip = bool(_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    etag = edgecache.gzip_etag(entry.etag) if gzip else entry.etag
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header:
        tags = parse_etags(header)
        if "*" in tags or entry.etag in tags or edgecache.gzip_etag(entry.etag) in tags:
            not_modified = HttpResponseNotModified()
            store = not_modified.headers._store  # type: ignore[attr-defined]
            for lower, pair in entry.shared.items():
                if lower not in _NOT_FOR_304:
                    store[lower] = pair
            store["etag"] = ("ETag", etag)
            return not_modified
    if gzip:
        response = HttpResponse(entry.gzipped)
        own = {
            "content-encoding": ("Content-Encoding", "gzip"),
            "content-length": ("Content-Length", str(len(entry.gzipped))),
        }
    else:  # a client without gzip (rare: browsers and CDNs all ask for it)
        response = HttpResponse(zlib.decompress(entry.gzipped, 31))
        own = {"content-length": ("Content-Length", str(entry.length))}
    # Django's own header store, filled with values it checked when the copy was made.
    store = {**entry.shared, **own, "etag": ("ETag", etag)}
    response.headers._store = store  # type: ignore[attr-defined]
    return response


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    return bool(
        getattr(request, STORABLE, False)
        and request.method == "GET"
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and (
            "public" in response.get("Cache-Control", "")
            or not edgecache.language_is_shared(request)
        )
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
        # A visitor's language choice (cookie) or browser language can change the page
        # (accounts/language.py): copies are kept per language hint.
        key = (request.META.get("HTTP_HOST", ""), request.path, visitor_language(request))
        now = _clock()
        entry = _store.get(key, now)
        if entry is not None:
            cache_hit("page_process")
            # Answered before URL resolution: the metrics and the log line still get
            # the route and the school the copy was made for.
            setattr(request, ROUTE_ATTRIBUTE, entry.route)
            structlog.contextvars.bind_contextvars(school_id=entry.school_id)
            return _answer(request, entry)
        ensure_listening()
        # Both before the chain reads anything the copy is made from.
        seq, epoch = local_seq(), listening_epoch()
        response = self.get_response(request)
        if _storable(request, response):
            assert isinstance(response, HttpResponse)
            # Counted only for pages that could have been answered from here.
            cache_miss("page_process")
            school = request.school  # type: ignore[attr-defined]
            content = response.content
            compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, no timestamp
            gzipped = compressor.compress(content) + compressor.flush()
            _store.put(
                key,
                _Entry(
                    gzipped=gzipped,
                    length=len(content),
                    shared=_shared_headers(response),
                    etag=response["ETag"],
                    names=(f"school:{school.pk}", f"slug:{school.slug}"),
                    seq=seq,
                    epoch=None if getattr(request, edgecache.EXPIRING, True) else epoch,
                    fresh_until=now + window,
                    expires=now + lifetime_seconds(),
                    size=len(gzipped) + len(key[0]) + len(key[1]) + len(key[2]) + _ENTRY_OVERHEAD,
                    route=route_name(request),
                    school_id=school.pk,
                ),
                budget,
            )
        return response
