"""Cache-backed fixed-window rate limits, shared by login, signup and codes.

Counters live in the default cache (Redis in production, so every web process
shares them). A limit is written "count/seconds", e.g. "5/900".
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from courseplatform.tenancy.languages import render_status_page


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, spec: str) -> Limit:
        count, _, seconds = spec.partition("/")
        return cls(int(count), int(seconds))


@dataclass(frozen=True)
class RateStatus:
    limited: bool
    retry_after: int
    # For RateLimit-* headers (the API): the budget, what is left of it, seconds to reset.
    limit: int = 0
    remaining: int = 0
    reset: int = 0


def _key(scope: str, ident: str, limit: Limit) -> tuple[str, int]:
    window = int(time.time()) // limit.seconds
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window}", (window + 1) * limit.seconds


def check(scope: str, ident: str, spec: str) -> RateStatus:
    """Is ``ident`` over its budget in ``scope``? Does not count a hit."""
    limit = Limit.parse(spec)
    key, window_end = _key(scope, ident, limit)
    used = cache.get(key, 0)
    if used >= limit.count:
        return RateStatus(True, max(1, window_end - int(time.time())))
    return RateStatus(False, 0)


def hit(scope: str, ident: str, spec: str) -> RateStatus:
    """Count one event for ``ident`` and report whether it is now over budget."""
    limit = Limit.parse(spec)
    key, window_end = _key(scope, ident, limit)
    if cache.add(key, 1, timeout=limit.seconds + 1):
        used = 1
    else:
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.seconds + 1)
            used = 1
    reset_in = max(1, window_end - int(time.time()))
    remaining = max(0, limit.count - used)
    if used > limit.count:
        return RateStatus(True, reset_in, limit.count, remaining, reset_in)
    return RateStatus(False, 0, limit.count, remaining, reset_in)


def reset(scope: str, ident: str, spec: str) -> None:
    key, _ = _key(scope, ident, Limit.parse(spec))
    cache.delete(key)


def too_many_requests(request: HttpRequest, retry_after: int, message: str) -> HttpResponse:
    response = render_status_page(
        request,
        "ops/rate_limited.html",
        {"message": message, "retry_after": retry_after, "retry_minutes": (retry_after + 59) // 60},
        status=429,
        school=getattr(request, "school", None),
    )
    response["Retry-After"] = str(retry_after)
    return response
