"""Copies kept in this process's memory for as long as it hears every change.

A lookup that must show every change at once asks Redis for a version token on each
request (``cache_tokens``): a round trip even when the answer is already in memory.
Every change that replaces such a token is also announced (``broadcast.announce_change``),
so while this process's listener has stayed subscribed since a copy was made, a change
it has not heard of has not happened, and the copy is current without asking.

``HeardCopies`` keeps such copies, each under the names whose announcement makes it
stale (``"school:<id>"``, ``"slug:<slug>"``; an announcement of everything drops all).
A copy is used only while the listening epoch it was made under lasts, and for at most
``lifetime`` seconds. While the process is not listening (no Redis, a broken
connection) nothing is kept, and callers ask Redis as before. This is the rule the
visitors' page cache (``ops/pagecache.py``) keeps its long-lived copies by.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from .broadcast import ensure_listening, listening_epoch
from .cache_tokens import changed_here, local_seq


@dataclass(frozen=True, slots=True)
class Stamp:
    """When the reads a copy is made from began: the local change sequence and epoch."""

    seq: int
    epoch: int


@dataclass(frozen=True, slots=True)
class Copy[V]:
    value: V
    names: tuple[str, ...]
    stamp: Stamp
    expires: float


_all: list[HeardCopies[object]] = []


class HeardCopies[V]:
    """A bounded, thread-safe LRU of copies valid while this process hears every change."""

    def __init__(
        self, *, size: int, lifetime: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.lifetime = lifetime
        self._clock = clock
        self._copies: OrderedDict[Hashable, Copy[V]] = OrderedDict()
        self._lock = threading.Lock()
        _all.append(self)  # type: ignore[arg-type]

    def begin(self) -> Stamp | None:
        """Take this *before* reading what a copy is made from; None while not listening
        (then nothing is kept)."""
        ensure_listening()
        epoch = listening_epoch()
        return None if epoch is None else Stamp(local_seq(), epoch)

    def get(self, key: Hashable) -> Copy[V] | None:
        with self._lock:
            found = self._copies.get(key)
            if found is None:
                return None
            if (
                found.stamp.epoch != listening_epoch()
                or self._clock() >= found.expires
                or changed_here(found.stamp.seq, found.names)
            ):
                del self._copies[key]
                return None
            self._copies.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V, *, names: tuple[str, ...], stamp: Stamp | None) -> None:
        if stamp is None or self.size <= 0 or self.lifetime <= 0:
            return
        copy = Copy(value, names, stamp, self._clock() + self.lifetime)
        with self._lock:
            self._copies[key] = copy
            self._copies.move_to_end(key)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()

    def __len__(self) -> int:
        return len(self._copies)


def clear_all() -> None:
    """Forget every copy of every ``HeardCopies`` in this process (tests)."""
    for copies in _all:
        copies.clear()
