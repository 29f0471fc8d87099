"""The unrecorded warm-up pass before a measured run: every target once (or a few
times), in the order wrk will ask for them, within a time limit.

wrk thread *i* of *n* starts at target ``i*N//n`` and walks forward (``rotate.lua``).
``wrk_order`` interleaves those walks, so a pass cut short by its time limit has warmed
exactly the targets the measured run reaches first. Each pass shifts which client
connection asks for a target: the app server runs several processes, each with its
own in-memory page cache (ops/pagecache.py), and a keep-alive connection stays with
one process, so a second and third pass put a page into more than one process.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .servers import ProcessCache, RedisPages
from .wrk import Target


def wrk_order(count: int, threads: int) -> list[int]:
    """Indexes 0..count-1 in the order wrk's threads first reach them, interleaved."""
    starts = [i * count // threads for i in range(threads)]
    seen: set[int] = set()
    order: list[int] = []
    for step in range(count):
        for start in starts:
            index = (start + step) % count
            if index not in seen:
                seen.add(index)
                order.append(index)
        if len(order) == count:
            break
    return order


def positions_for(slot: int, k: int, length: int, connections: int) -> range:
    """The positions of the order that connection ``slot`` asks for in pass ``k``:
    position p goes to connection (p + k) % connections, so each pass hands a target
    to the next connection (and, with luck, to another web process)."""
    return range((slot - k) % connections, length, connections)


@dataclass
class WarmUp:
    targets: int
    passes: int
    requests: int = 0
    covered: int = 0  # distinct targets asked at least once
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    complete: bool = False  # every pass finished within the time limit

    def describe(self) -> str:
        bad = {s: n for s, n in self.statuses.items() if s != 200}
        odd = f", answers not 200: {dict(sorted(bad.items()))}" if bad else ""
        return (
            f"{self.covered:,}/{self.targets:,} targets in {self.seconds:.0f} s "
            f"({self.requests:,} requests, {self.passes} pass{'es' if self.passes != 1 else ''}"
            f"{'' if self.complete else ', cut short by the time limit'}{odd})"
        )


def warm(
    port: int,
    targets: Sequence[Target],
    *,
    passes: int,
    seconds: float,
    connections: int = 8,
    threads: int = 2,
    order: Sequence[int] | None = None,
    shift: int = 0,
) -> WarmUp:
    """Ask for every target ``passes`` times over ``connections`` keep-alive connections,
    stopping at ``seconds``. ``order`` (default: wrk's, ``wrk_order``) is the order of
    the target indexes; ``shift`` moves pass *k* to the connections pass *k + shift*
    would use, so passes made by separate calls still go to other connections."""
    order = list(order) if order is not None else wrk_order(len(targets), threads)
    result = WarmUp(targets=len(targets), passes=passes)
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    asked: set[int] = set()
    started = time.monotonic()
    stop = threading.Event()

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        statuses: Counter[int] = Counter()
        done: set[int] = set()
        try:
            for k in range(shift, shift + passes):
                for position in positions_for(slot, k, len(order), connections):
                    if stop.is_set() or time.monotonic() >= deadline:
                        stop.set()
                        return
                    target = targets[order[position]]
                    headers = {"Host": target.host}
                    if target.cookie:
                        headers["Cookie"] = target.cookie
                    try:
                        conn.request("GET", target.path, headers=headers)
                        answer = conn.getresponse()
                        answer.read()
                        statuses[answer.status] += 1
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                        statuses[0] += 1
                    done.add(order[position])
        finally:
            conn.close()
            with lock:
                result.statuses.update(statuses)
                result.requests += sum(statuses.values())
                asked.update(done)

    workers = [threading.Thread(target=client, args=(slot,)) for slot in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result.seconds = time.monotonic() - started
    result.covered = len(asked)
    result.complete = not stop.is_set()
    return result


def combine(first: WarmUp, then: WarmUp) -> WarmUp:
    """Two warm-ups of the same targets, one after the other, as one."""
    return WarmUp(
        targets=first.targets,
        passes=first.passes + then.passes,
        requests=first.requests + then.requests,
        covered=max(first.covered, then.covered),
        seconds=first.seconds + then.seconds,
        statuses=first.statuses + then.statuses,
        complete=first.complete and then.complete,
    )


def interleave(lists: Sequence[Sequence[Target]], order: Sequence[int]) -> list[Target]:
    """Several pages' targets (one list per page, one target per school, same school
    order) as one list: school by school in ``order``, each school's pages together,
    so a pass cut short has warmed every page of the schools it reached."""
    return [page[i] for i in order for page in lists]


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def describe_visitor_warmup(
    done: WarmUp,
    *,
    pages: int,
    schools: int,
    caches: Sequence[ProcessCache],
    evictions: int,
    redis: RedisPages,
    budget_mb: int,
) -> str:
    """The visitor warm-up of a set and what the caches held after it: how many of the
    set's (school, page) entries are warm in Redis and in each web process, their
    memory, and whether PUBLIC_PROCESS_CACHE_MB was enough."""
    total = pages * schools
    set_of = f"{schools:,} school{'s' if schools != 1 else ''}"
    # A process may also hold pages of earlier sets' schools or the report's first
    # landing page: a count at least the set's is what the warm-up waits for.
    held = ", ".join(
        f"pid {c.pid}: {c.entries:,} copies{'' if c.entries >= total else ' (short)'}, "
        f"{_mib(c.bytes)}" + (f" of a {_mib(c.rss_bytes)} process" if c.rss_bytes else "")
        for c in caches
    )
    mean = max((c.bytes / c.entries for c in caches if c.entries), default=0.0)
    if evictions:
        verdict = (
            f"{budget_mb} MiB was NOT enough: {evictions:,} copies evicted; "
            f"{set_of} x {pages} pages need about "
            f"{_mib(int(mean * total))} per process"
        )
    elif mean:
        verdict = (
            f"{budget_mb} MiB is enough: {set_of} x {pages} pages take "
            f"{_mib(int(mean * total))} per process ({mean / 1024:.1f} KiB a copy), "
            f"so it holds about {int(budget_mb * 1024 * 1024 / mean):,} copies"
        )
    else:
        verdict = "no copy kept"
    return (
        f"{set_of} x {pages} pages = {total:,} targets: {done.describe()}. "
        f"In Redis: {redis.keys:,} page keys, about {_mib(redis.bytes_estimate)} (the whole "
        f"Redis {_mib(redis.used_memory)}). In each web process's memory: "
        f"{held or 'not readable from /metrics'}. {verdict}."
    )


# --- handing every page to every web process ----------------------------------------
#
# A keep-alive connection stays with the web process that accepted it, and which one
# that is, is the kernel's choice: with 8 connections the split between two processes
# can be 7:1, and passes that merely shift targets between connections then leave pages
# out of a process (measured: 92 % after 6 passes at 300 schools). So each connection is
# first *pinned*: one probe request for a page no process holds yet (a language variant:
# the process cache keys on the visitor's language) makes exactly one process's
# ``page_process_cache_entries`` grow, which names the process behind the connection.
# Then every target is asked once through a connection of each process.

PROBE_LANGUAGES = ("es", "de", "pt-BR", "ar")


def probe_targets(targets: Sequence[Target]) -> list[tuple[Target, str]]:
    """(target, Accept-Language) pairs no warm-up pass asks for: each makes a new copy."""
    return [(t, language) for t in reversed(targets) for language in PROBE_LANGUAGES]


def _get(conn: http.client.HTTPConnection, target: Target, language: str = "") -> int:
    headers = {"Host": target.host, "Accept-Encoding": "gzip"}
    if target.cookie:
        headers["Cookie"] = target.cookie
    if language:
        headers["Accept-Language"] = language
    conn.request("GET", target.path, headers=headers)
    answer = conn.getresponse()
    answer.read()
    return answer.status


def pin_connections(
    port: int,
    probes: Sequence[tuple[Target, str]],
    entries: Callable[[], dict[int, int]],
    *,
    per_process: int = 4,
    most: int = 32,
) -> dict[int, list[http.client.HTTPConnection]]:
    """Open connections until each web process (a pid ``entries()`` lists) has
    ``per_process`` of them, or ``most`` were tried; returns pid -> connections."""
    before = entries()
    pinned: dict[int, list[http.client.HTTPConnection]] = {pid: [] for pid in before}
    tries = 0
    for target, language in probes:
        if tries >= most or all(len(c) >= per_process for c in pinned.values()):
            break
        tries += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            _get(conn, target, language)
        except (OSError, http.client.HTTPException):
            conn.close()
            continue
        after = entries()
        grown = [pid for pid, n in after.items() if n > before.get(pid, 0)]
        before = after
        if len(grown) == 1 and len(pinned.setdefault(grown[0], [])) < per_process:
            pinned[grown[0]].append(conn)
        else:  # the page was held already, or the process has enough connections
            conn.close()
    return pinned


def spread(
    pinned: dict[int, list[http.client.HTTPConnection]],
    targets: Sequence[Target],
    *,
    seconds: float,
) -> tuple[WarmUp, dict[int, int]]:
    """Every target once through each pinned process, within ``seconds``. Returns the
    warm-up and, per pid, how many targets it was asked for."""
    pids = [pid for pid, conns in pinned.items() if conns]
    result = WarmUp(targets=len(targets), passes=len(pids))
    deadline = time.monotonic() + seconds
    stop = threading.Event()
    lock = threading.Lock()
    asked: dict[int, int] = dict.fromkeys(pids, 0)
    covered: set[int] = set()
    started = time.monotonic()

    def client(pid: int, mine: list[int], conn: http.client.HTTPConnection) -> None:
        statuses: Counter[int] = Counter()
        done: set[int] = set()
        try:
            for index in mine:
                if stop.is_set() or time.monotonic() >= deadline:
                    stop.set()
                    return
                try:
                    statuses[_get(conn, targets[index])] += 1
                except (OSError, http.client.HTTPException):
                    statuses[0] += 1  # the connection is gone: it asks no more
                    return
                done.add(index)
        finally:
            with lock:
                result.statuses.update(statuses)
                result.requests += sum(statuses.values())
                asked[pid] += len(done)
                covered.update(done)

    # Pass j gives target i to process (i + j) % P: in the first pass every process
    # renders its share (all cores busy), in the next ones each takes the others'
    # renderings from Redis; within a process its connections share the work.
    for j in range(len(pids)):
        workers = []
        for q, pid in enumerate(pids):
            share = [i for i in range(len(targets)) if (i + j) % len(pids) == q]
            conns = pinned[pid]
            for slot, conn in enumerate(conns):
                mine = share[slot :: len(conns)]
                workers.append(threading.Thread(target=client, args=(pid, mine, conn)))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if stop.is_set():
            break
    result.seconds = time.monotonic() - started
    result.covered = len(covered)
    result.complete = not stop.is_set() and all(n == len(targets) for n in asked.values())
    return result, asked


def close_all(pinned: dict[int, list[http.client.HTTPConnection]]) -> None:
    for conns in pinned.values():
        for conn in conns:
            conn.close()
