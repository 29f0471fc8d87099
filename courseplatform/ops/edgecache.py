"""Public pages for visitors: rendered once, shared by every visitor and every cache.

``@public_page`` wraps the views of a school's public pages (landing and builder pages,
catalogue, course page). A request is a *visitor's* when it is a GET/HEAD without a
session cookie and without a messages cookie: nothing in it can make the page personal.
For visitors:

* the whole response is cached in Redis under the school, its last change
  (``updated_at``), its content generation (``tenancy.generation``, bumped on every
  content change), the deployment's static files, the host and the path — so a warm
  hit makes no database round trip and renders nothing. Requests with a query string
  are rendered every time (they would let anyone fill the cache) but still get the
  shared-cache headers;
* the page is rendered without per-visitor tokens (``request.shared_cacheable``: no
  CSRF token in ``base.html``; the redeem block becomes a GET form, which keeps the
  code for after sign-in), so no ``csrftoken`` cookie is set;
* ``Cache-Control: public, max-age=0, s-maxage=PUBLIC_CACHE_SECONDS,
  stale-while-revalidate=PUBLIC_CACHE_STALE_SECONDS``: a CDN keeps it, a browser
  revalidates (so a visitor who signs in never sees the visitor's copy);
* a strong ``ETag`` (SHA-256 of the body) and ``304 Not Modified`` on a matching
  ``If-None-Match``; ``Vary: Cookie, Accept-Encoding`` (the page differs for signed-in
  people, whose requests carry the session cookie; the memory copy is sent gzipped to
  clients that accept it).

A rendering that turns out personal after all (it set a cookie, touched the session or
queued a message) is neither stored nor public. Every other request — signed in, with a
session, a POST — gets ``Cache-Control: private, no-store``, and
``SharedCacheGuardMiddleware`` (``ops/middleware.py``) makes sure no response that sets
a cookie, and no HTML page for a session, ever leaves with ``public``.

How long a rendering is kept depends on what it holds. Course covers and the logo have
stable URLs (``courses/covers.py``, ``/branding/``), so most pages hold nothing that
expires: the Redis copy (zlib-compressed) is kept until the content changes — its key
holds the content generation, ``updated_at`` and the static files' manifest — and at
most ``PUBLIC_PAGE_LIFETIME_SECONDS``. A rendering that mints a signed URL (a video
block's poster: ``files.note_expiring_url``) is kept at most its ``s-maxage``, and its
lifetimes are capped so it is never served after its URLs expire
(``max_public_lifetime``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag

from courseplatform.telemetry.metrics import cache_hit, cache_miss
from courseplatform.tenancy.generation import content_generation

from . import files
from .files import DOWNLOAD_TTL_SECONDS

SHARED_FLAG = "shared_cacheable"
# Where the page's language came from (accounts/language.py sets it): only a page in
# the school's own language is the same for every visitor of that URL.
LANGUAGE_SOURCE = "language_source"
_SHARED_LANGUAGE_SOURCES = frozenset({"school"})
PROCESS_CACHEABLE = "process_page_cacheable"  # read by ops/pagecache.py
EXPIRING = "public_page_expiring"  # the page holds a URL that expires (ops/pagecache.py)
PRIVATE = "private, no-store"


def signed_url_budget() -> int:
    """Seconds a cached page may live in all caches together: its signed URLs' lifetime,
    less a margin for the visitor to use them."""
    return DOWNLOAD_TTL_SECONDS - 30


def max_public_lifetime() -> tuple[int, int]:
    """(s-maxage, stale-while-revalidate) as configured, capped so the server cache plus
    both edge lifetimes stay inside the signed URLs' lifetime."""
    fresh = max(0, settings.PUBLIC_CACHE_SECONDS)
    stale = max(0, settings.PUBLIC_CACHE_STALE_SECONDS)
    budget = signed_url_budget()
    fresh = min(fresh, budget // 3)
    stale = min(stale, budget - 2 * fresh)
    return fresh, stale


def is_visitor(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def is_shared_cacheable(request: HttpRequest) -> bool:
    return bool(getattr(request, SHARED_FLAG, False))


@dataclass(frozen=True)
class _Stored:
    body: bytes  # zlib-compressed: a landing page shrinks about 4x in Redis
    content_type: str
    etag: str
    expiring: bool  # holds a URL that expires (``files.note_expiring_url``)


@lru_cache(maxsize=1)
def _release() -> str:
    """What the static files of this deployment are: a page links its hashed CSS and JS
    names, so a rendering made by the previous release is not reused by this one."""
    return str(getattr(staticfiles_storage, "manifest_hash", "") or "")


def _key(request: HttpRequest) -> str:
    school = request.school  # type: ignore[attr-defined]
    where = hashlib.sha256(f"{request.get_host()}\n{request.path}".encode()).hexdigest()[:32]
    changed = int(school.updated_at.timestamp() * 1_000_000) if school.updated_at else 0
    generation = content_generation(school.pk)
    language = translation.get_language()
    return f"ops:page:v3:{school.pk}:{changed}:{generation}:{_release()}:{language}:{where}"


def lifetimes(*, expiring: bool) -> tuple[int, int]:
    """(s-maxage, stale-while-revalidate) for a page: as configured, and for a page with
    expiring URLs capped to fit them (``max_public_lifetime``)."""
    if expiring:
        return max_public_lifetime()
    return max(0, settings.PUBLIC_CACHE_SECONDS), max(0, settings.PUBLIC_CACHE_STALE_SECONDS)


def stored_seconds(*, expiring: bool) -> int:
    """How long the Redis copy is kept: a page without expiring URLs until its content
    changes (the key holds the content generation), at most
    ``PUBLIC_PAGE_LIFETIME_SECONDS``; one with them, its ``s-maxage``."""
    if expiring:
        return max_public_lifetime()[0]
    if not settings.PUBLIC_CACHE_SECONDS:
        return 0  # shared caching turned off
    return max(0, settings.PUBLIC_PAGE_LIFETIME_SECONDS)


def _turned_personal(request: HttpRequest, response: HttpResponseBase) -> bool:
    session = getattr(request, "session", None)
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", None)
    return bool(
        response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or (session is not None and session.modified)
        or queued
    )


def make_private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = PRIVATE
    return response


def language_is_shared(request: HttpRequest) -> bool:
    """Whether every visitor of this URL gets the page in this language (the school's):
    a page in a language chosen by a cookie or the browser is not for shared caches,
    which key on the URL alone (Cloudflare ignores ``Vary`` for HTML)."""
    return getattr(request, LANGUAGE_SOURCE, "school") in _SHARED_LANGUAGE_SOURCES


def _make_public(
    request: HttpRequest, response: HttpResponseBase, etag: str, *, expiring: bool
) -> None:
    fresh, stale = lifetimes(expiring=expiring)
    if language_is_shared(request):
        response["Cache-Control"] = (
            f"public, max-age=0, s-maxage={fresh}, stale-while-revalidate={stale}"
        )
    else:
        # Still revalidated by its ETag, and still kept per language by this process
        # and in Redis; only the caches in front of us must not share it.
        response["Cache-Control"] = "private, max-age=0"
    response["ETag"] = etag
    # The web process's memory copy is sent gzip-compressed to clients that ask for it
    # (ops/pagecache.py), so the representation depends on Accept-Encoding too.
    patch_vary_headers(response, ["Cookie", "Accept-Encoding"])


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or gzip_etag(etag) in tags


def gzip_etag(etag: str) -> str:
    """The strong ETag of the page's gzip-compressed copy (one tag per representation)."""
    return f'{etag[:-1]}-gzip"' if etag.endswith('"') else etag


def public_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Cache a public page whole for visitors, with shared-cache headers and an ETag."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_visitor(request):
            return make_private(view(request, *args, **kwargs))
        setattr(request, SHARED_FLAG, True)
        key = None if request.META.get("QUERY_STRING") else _key(request)
        stored = cache.get(key) if key else None
        if key:
            # Only pages that could come from the cache count for its hit ratio.
            (cache_hit if isinstance(stored, _Stored) else cache_miss)("page")
        if isinstance(stored, _Stored):
            response: HttpResponseBase = HttpResponse(
                zlib.decompress(stored.body), content_type=stored.content_type
            )
            etag, expiring = stored.etag, stored.expiring
        else:
            with files.expiring_urls_watched() as minted:
                response = view(request, *args, **kwargs)
                render = getattr(response, "render", None)
                if callable(render):
                    response = render() or response
            expiring = minted[0]
            if (
                response.status_code != 200
                or response.streaming
                or _turned_personal(request, response)
            ):
                return make_private(response)
            assert isinstance(response, HttpResponse)
            etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:40])
            seconds = stored_seconds(expiring=expiring)
            if key and seconds:
                body = zlib.compress(response.content, 6)
                stored = _Stored(body, response["Content-Type"], etag, expiring)
                cache.set(key, stored, seconds)
        if key:
            # The finished response may be kept in this process (ops/pagecache.py).
            setattr(request, PROCESS_CACHEABLE, True)
            setattr(request, EXPIRING, expiring)
        _make_public(request, response, etag, expiring=expiring)
        if _not_modified(request, etag):
            not_modified = HttpResponseNotModified()
            for header in ("Cache-Control", "ETag", "Vary"):
                not_modified[header] = response[header]
            return not_modified
        return response

    return wrapped
