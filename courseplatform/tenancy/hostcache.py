"""Host → school lookups that stay cheap at 10,000 schools and still change at once.

Four levels, fastest first:

0. **This process, while it hears every change** (``heard.py``): every write below is
   also announced ("slug:<slug>", or everything for a plan), so while the process's
   listener has stayed subscribed since a school was looked up, the school it holds is
   current without asking Redis: no round trip at all.
1. **This process** keeps the schools it resolved (a bounded LRU dict, at most
   ``SCHOOL_CACHE_SIZE`` entries, each at most ``SCHOOL_CACHE_SECONDS`` old).
2. **Redis** holds, per slug, a random *version token*, and one token for all plans.
   Every lookup reads the slug's token and the plans token in one round trip
   (``get_many``) and uses the process's entry only when both still match: a write to
   a school (suspend, plan change, rename, slug change, delete; ``signals.py``) or to
   any plan replaces the token, so every process sees the change on its next request.
   The school itself is also kept in Redis under its tokens, so a process that has
   not seen it yet fetches it from Redis rather than PostgreSQL.
3. **PostgreSQL**, by the unique slug index, when neither has it.

A token that is missing (never made, expired, flushed) is simply made anew, and a new
token matches no entry: losing tokens costs lookups, never correctness. Tokens expire
after a day so probing random hosts cannot grow Redis without bound. Writes replace
the token immediately and again after their transaction commits, so a lookup that
read the old row meanwhile cannot keep it under the new token.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from courseplatform.telemetry.metrics import cache_hit, cache_miss

from .broadcast import announce_change
from .cache_tokens import current_token, replace_token
from .heard import HeardCopies
from .models import School

_MISSING = "missing"
PLANS_TOKEN_KEY = "tenancy:plans-token"
TOKEN_TTL = 24 * 3600


def slug_token_key(slug: str) -> str:
    return f"tenancy:school-token:{slug}"


def shared_key(slug: str, token: str, plans_token: str) -> str:
    return f"tenancy:school:v2:{slug}:{token}:{plans_token}"


@dataclass(frozen=True)
class _Entry:
    school: School | None
    token: str
    plans_token: str
    fetched_at: float


_entries: OrderedDict[str, _Entry] = OrderedDict()
_lock = threading.Lock()
_heard: HeardCopies[School | None] = HeardCopies(
    size=settings.SCHOOL_CACHE_SIZE, lifetime=settings.SCHOOL_CACHE_SECONDS
)


def _local_get(slug: str) -> _Entry | None:
    with _lock:
        entry = _entries.get(slug)
        if entry is not None:
            _entries.move_to_end(slug)
        return entry


def _local_put(slug: str, entry: _Entry) -> None:
    with _lock:
        _entries[slug] = entry
        _entries.move_to_end(slug)
        while len(_entries) > settings.SCHOOL_CACHE_SIZE:
            _entries.popitem(last=False)


def clear_process_cache() -> None:
    with _lock:
        _entries.clear()
    _heard.clear()


def _token(key: str, found: object) -> str:
    return current_token(key, found, ttl=TOKEN_TTL)


def _fetch(slug: str) -> School | None:
    return School.objects.select_related("plan").filter(slug=slug).first()


def lookup(slug: str) -> School | None:
    """The school at ``slug`` (already normalised and valid), or None."""
    heard = _heard.get(slug)
    if heard is not None:
        cache_hit("host")
        return heard.value
    stamp = _heard.begin()
    school = _lookup(slug)
    _heard.put(slug, school, names=(f"slug:{slug}",), stamp=stamp)
    return school


def _lookup(slug: str) -> School | None:
    slug_key = slug_token_key(slug)
    found = cache.get_many([slug_key, PLANS_TOKEN_KEY])
    token = _token(slug_key, found.get(slug_key))
    plans_token = _token(PLANS_TOKEN_KEY, found.get(PLANS_TOKEN_KEY))
    now = time.monotonic()
    entry = _local_get(slug)
    if (
        entry is not None
        and entry.token == token
        and entry.plans_token == plans_token
        and now - entry.fetched_at < settings.SCHOOL_CACHE_SECONDS
    ):
        cache_hit("host")
        return entry.school
    key = shared_key(slug, token, plans_token)
    shared = cache.get(key)
    if shared == _MISSING:
        cache_hit("host")
        school = None
    elif isinstance(shared, School):
        cache_hit("host")
        school = shared
    else:
        cache_miss("host")
        school = _fetch(slug)
        cache.set(key, school if school is not None else _MISSING, settings.SCHOOL_CACHE_SECONDS)
    _local_put(slug, _Entry(school, token, plans_token, now))
    return school


def _replace_token(key: str) -> None:
    replace_token(key, ttl=TOKEN_TTL)


def school_changed(*slugs: str) -> None:
    """Every process stops using what it knew of these slugs, now and after commit."""
    slugs = tuple(slug for slug in dict.fromkeys(slugs) if slug)
    keys = [slug_token_key(slug) for slug in slugs]
    names = tuple(f"slug:{slug}" for slug in slugs)
    for key in keys:
        _replace_token(key)
    if names:
        announce_change(*names)

    def again() -> None:
        for key in keys:
            _replace_token(key)
        if names:
            announce_change(*names)

    transaction.on_commit(again)


def plans_changed() -> None:
    """A plan's limits changed: every cached school carries its plan, so all go."""
    _replace_token(PLANS_TOKEN_KEY)
    announce_change(None)

    def again() -> None:
        _replace_token(PLANS_TOKEN_KEY)
        announce_change(None)

    transaction.on_commit(again)
