"""Version tokens in the shared cache: a random string per thing whose cached copies
must all go stale at once. Readers build their cache keys from the current token;
a change replaces the token, so every process misses on its next read."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from django.core.cache import cache


def current_token(key: str, found: object, *, ttl: int) -> str:
    """The token at ``key``, given what a read of it just ``found`` (callers batch
    that read with others). When there is none, store a fresh one — ``add`` so that
    two processes racing here end up agreeing on the winner's token."""
    if isinstance(found, str):
        return found
    fresh = secrets.token_hex(8)
    if cache.add(key, fresh, ttl):
        return fresh
    again = cache.get(key)
    return again if isinstance(again, str) else fresh


def replace_token(key: str, *, ttl: int) -> None:
    """Make everything cached under the old token stale."""
    cache.set(key, secrets.token_hex(8), ttl)


# Changes seen by *this* process, for caches that keep copies in process memory
# (``ops/pagecache.py``) and cannot ask Redis on every read. A change bumps a sequence
# number and remembers it under the changed thing's name ("school:<id>",
# "slug:<slug>"), or for everything (``None``). A copy taken when the sequence stood at
# ``seq`` is stale in this process when ``changed_here(seq, names)``. Other processes
# learn of the change through the Redis token, and for copies kept without asking Redis
# through the announcement (``broadcast.announce_change``, which writers call instead of
# this; the listener calls this for what it hears), or when their window ends. The map
# of names is bounded: a name pushed out raises the floor under which every copy counts
# as stale, so forgetting is safe.
_LOCAL_NAMES = 4096
_local_lock = threading.Lock()
_local_seq = 0
_local_floor = 0
_local_changes: OrderedDict[str, int] = OrderedDict()


def local_seq() -> int:
    """The sequence number now; take it before reading what a copy is made from."""
    return _local_seq


def note_local_change(*names: str | None) -> None:
    """Something changed in this process: ``names`` ("school:<id>", "slug:<slug>"),
    or everything when a name is None (or none is given)."""
    global _local_seq, _local_floor
    with _local_lock:
        _local_seq += 1
        if not names or None in names:
            _local_floor = _local_seq
            return
        for name in names:
            assert name is not None
            _local_changes[name] = _local_seq
            _local_changes.move_to_end(name)
        while len(_local_changes) > _LOCAL_NAMES:
            _, seq = _local_changes.popitem(last=False)
            _local_floor = max(_local_floor, seq)


def changed_here(seq: int, names: tuple[str, ...]) -> bool:
    """Did this process see a change to any of ``names`` after ``seq``?"""
    if _local_floor > seq:
        return True
    return any(_local_changes.get(name, 0) > seq for name in names)
