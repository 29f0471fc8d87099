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
from collections.abc import Sequence
from dataclasses import dataclass, field

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
) -> WarmUp:
    """Ask for every target ``passes`` times over ``connections`` keep-alive connections,
    stopping at ``seconds``."""
    order = wrk_order(len(targets), threads)
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
            for shift in range(passes):
                # position p of the order goes to connection (p + shift) % connections
                for position in range((slot - shift) % connections, len(order), connections):
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
