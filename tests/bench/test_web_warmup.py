"""The warm-up pass before a measured run (bench/web/warmup.py): wrk's order, every
target once per pass from a different connection each pass, cut short by its limit."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from bench.web import report, servers, warmup, wrk
from tests.bench.test_web_report import m, run_of
from tests.bench.test_wrk_script import TARGETS, recorder  # noqa: F401 (fixture)


def test_wrk_order_interleaves_the_threads_walks() -> None:
    assert warmup.wrk_order(6, 2) == [0, 3, 1, 4, 2, 5]
    assert warmup.wrk_order(5, 2) == [0, 2, 1, 3, 4]
    assert warmup.wrk_order(1, 2) == [0]
    assert sorted(warmup.wrk_order(101, 3)) == list(range(101))


def test_every_target_is_asked_once_per_pass_with_its_host_and_cookie(
    recorder: tuple[int, list[tuple[int, str, str, str]]],  # noqa: F811
) -> None:
    port, seen = recorder
    done = warmup.warm(port, TARGETS, passes=3, seconds=60, connections=2, threads=2)
    assert done.complete and done.covered == len(TARGETS)
    assert done.requests == 3 * len(TARGETS) == len(seen)
    asked = Counter((host, path, cookie) for _, host, path, cookie in seen)
    assert asked == Counter({(t.host, t.path, t.cookie): 3 for t in TARGETS})
    assert done.statuses == Counter({200: 12, 404: 3})
    # each pass hands a target to the other connection
    ports_of_first = {client for client, host, _, _ in seen if host == TARGETS[0].host}
    assert len(ports_of_first) == 2
    assert "answers not 200: {404: 3}" in done.describe()


def test_the_time_limit_cuts_the_pass_short(
    recorder: tuple[int, list[tuple[int, str, str, str]]],  # noqa: F811
) -> None:
    port, seen = recorder
    done = warmup.warm(port, TARGETS, passes=1, seconds=0, connections=2)
    assert not done.complete and done.requests == 0 == len(seen)
    assert "cut short by the time limit" in done.describe()


def test_memory_hits_come_from_the_host_lookups_of_visitor_pages() -> None:
    landing = m("landing", "anonymous", 100, 1000, 2.0, host_lookups=2500)
    assert landing.memory_hit_ratio == pytest.approx(0.75)  # 10,000 requests
    assert m("lesson", "logged-in", 100, 1000, 2.0, host_lookups=1).memory_hit_ratio is None
    assert m("landing", "anonymous", 100, 1000, 2.0).memory_hit_ratio is None
    table = report.results_table(run_of(landing))
    assert "| memory hit |" in table and "| 75% |" in table


def test_the_ceiling_line_compares_signed_in_pages_with_it() -> None:
    ceiling = m("ceiling", "ceiling", 100, 450, 2.0)
    lesson = m("lesson", "logged-in", 100, 90, 20.0, round_trips=2.0)
    lines = report.ceiling_lines(run_of(ceiling, lesson))
    assert len(lines) == 1
    assert "reaches 50% of the floor (450 req/s" in lines[0]
    assert "lesson 20%" in lines[0]


def test_each_pass_hands_a_position_to_the_next_connection() -> None:
    every = [list(warmup.positions_for(slot, 0, 7, 3)) for slot in range(3)]
    assert every == [[0, 3, 6], [1, 4], [2, 5]]
    # pass 1 (or a second call with shift=1): position 0 goes to connection 1
    assert [list(warmup.positions_for(slot, 1, 7, 3)) for slot in range(3)] == [
        [2, 5], [0, 3, 6], [1, 4]
    ]  # fmt: skip
    for k in range(4):  # each pass still asks for every position exactly once
        asked = sorted(p for slot in range(3) for p in warmup.positions_for(slot, k, 7, 3))
        assert asked == list(range(7))


def test_an_explicit_order_and_shift_are_followed(
    recorder: tuple[int, list[tuple[int, str, str, str]]],  # noqa: F811
) -> None:
    port, seen = recorder
    done = warmup.warm(
        port, TARGETS, passes=1, seconds=60, connections=1, order=[4, 3, 2, 1, 0], shift=5
    )
    assert done.complete and done.requests == len(TARGETS)
    assert [host for _, host, _, _ in seen] == [t.host for t in reversed(TARGETS)]


def test_several_pages_are_interleaved_school_by_school() -> None:
    landing = [wrk.Target(f"s{i}.localhost", "/") for i in range(3)]
    catalogue = [wrk.Target(f"s{i}.localhost", "/courses/") for i in range(3)]
    plan = warmup.interleave([landing, catalogue], [2, 0, 1])
    assert [(t.host, t.path) for t in plan] == [
        ("s2.localhost", "/"), ("s2.localhost", "/courses/"),
        ("s0.localhost", "/"), ("s0.localhost", "/courses/"),
        ("s1.localhost", "/"), ("s1.localhost", "/courses/"),
    ]  # fmt: skip


def test_passes_made_by_separate_calls_add_up() -> None:
    first = warmup.WarmUp(10, 1, requests=10, covered=10, seconds=5.0, complete=True,
                          statuses=Counter({200: 10}))  # fmt: skip
    then = warmup.WarmUp(10, 1, requests=4, covered=4, seconds=1.0, complete=False,
                         statuses=Counter({200: 3, 404: 1}))  # fmt: skip
    both = warmup.combine(first, then)
    assert (both.passes, both.requests, both.covered, both.seconds) == (2, 14, 10, 6.0)
    assert both.statuses == Counter({200: 13, 404: 1}) and not both.complete


def _describe(caches: list[servers.ProcessCache], evictions: int) -> str:
    done = warmup.WarmUp(6, 2, requests=12, covered=6, seconds=3.0, complete=True,
                         statuses=Counter({200: 12}))  # fmt: skip
    redis = servers.RedisPages(keys=6, bytes_estimate=3 * 1024 * 1024, used_memory=8 << 20)
    return warmup.describe_visitor_warmup(
        done, pages=3, schools=2, caches=caches, evictions=evictions, redis=redis, budget_mb=1
    )


def test_the_visitor_warm_up_says_what_every_cache_holds_and_if_the_budget_is_enough() -> None:
    full = [
        servers.ProcessCache(11, 6, 6 * 3072, 200 << 20),
        servers.ProcessCache(12, 3, 9216, None),
    ]
    text = _describe(full, evictions=0)
    assert "2 schools x 3 pages = 6 targets: 6/6 targets in 3 s (12 requests, 2 passes)" in text
    assert "In Redis: 6 page keys, about 3.0 MiB (the whole Redis 8.0 MiB)" in text
    assert "pid 11: 6 copies, 0.0 MiB of a 200.0 MiB process" in text
    assert "pid 12: 3 copies (short), 0.0 MiB." in text
    assert "1 MiB is enough: 2 schools x 3 pages take 0.0 MiB per process (3.0 KiB a copy)" in text
    assert "holds about 341 copies" in text

    text = _describe([servers.ProcessCache(11, 2, 2 * 600_000, None)], evictions=4)
    assert "1 MiB was NOT enough: 4 copies evicted" in text
    assert "need about 3.4 MiB per process" in text
    assert "not readable from /metrics" in _describe([], evictions=0)


METRICS = """\
# HELP courseplatform_page_process_cache_entries Visitor pages kept in this web process's memory.
# TYPE courseplatform_page_process_cache_entries gauge
courseplatform_page_process_cache_entries{pid="4242"} 30000.0
courseplatform_page_process_cache_entries{pid="4243"} 29000.0
# TYPE courseplatform_page_process_cache_bytes gauge
courseplatform_page_process_cache_bytes{pid="4242"} 8.5e+07
courseplatform_page_process_cache_bytes{pid="4243"} 8.0e+07
# TYPE courseplatform_page_process_cache_evictions counter
courseplatform_page_process_cache_evictions_total 7.0
courseplatform_cache_lookups_total{cache="page_process",result="hit"} 99.0
"""


def test_the_process_caches_are_read_from_the_metrics_of_every_worker() -> None:
    caches, evictions = servers.parse_process_caches(METRICS)
    assert [(c.pid, c.entries, c.bytes) for c in caches] == [
        (4242, 30000, 85_000_000), (4243, 29000, 80_000_000)
    ]  # fmt: skip
    assert evictions == 7
    assert servers.parse_process_caches("") == ([], 0)


class _TwoProcesses(http.server.BaseHTTPRequestHandler):
    """Stands in for two web processes: a connection belongs to "process" 0 or 1 by
    its client port (Linux prefers even ports for connect(): the next bit), and each
    process keeps a copy per (host, path, language), like ops/pagecache.py."""

    protocol_version = "HTTP/1.1"
    held: dict[int, set[tuple[str, str, str]]]
    seen: list[tuple[int, str, str]]
    lock = threading.Lock()

    def do_GET(self) -> None:
        process = self.client_address[1] // 2 % 2
        key = (self.headers["Host"], self.path, self.headers.get("Accept-Language", ""))
        with self.lock:
            self.held[process].add(key)
            self.seen.append((process, *key[:2]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def two_processes() -> Iterator[tuple[int, type[_TwoProcesses]]]:
    handler = type("Two", (_TwoProcesses,), {"held": {0: set(), 1: set()}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def test_connections_are_pinned_to_processes_and_every_page_reaches_each(
    two_processes: tuple[int, type[_TwoProcesses]],
) -> None:
    port, server = two_processes
    pages = [wrk.Target(f"s{i}.localhost", path) for i in range(20) for path in ("/", "/c/")]

    def entries() -> dict[int, int]:
        with server.lock:
            return {process: len(keys) for process, keys in server.held.items()}

    probes = warmup.probe_targets(pages)
    assert probes[0] == (pages[-1], "es") and len(probes) == 4 * len(pages)
    pinned = warmup.pin_connections(port, probes, entries, per_process=2, most=32)
    try:
        # every kept connection really is one of its process's
        assert sorted(pinned) == [0, 1] and all(len(c) == 2 for c in pinned.values())
        for process, conns in pinned.items():
            assert all(conn.sock.getsockname()[1] // 2 % 2 == process for conn in conns)
        server.seen.clear()
        done, asked = warmup.spread(pinned, pages, seconds=60)
    finally:
        warmup.close_all(pinned)
    assert done.complete and asked == {0: len(pages), 1: len(pages)}
    assert done.requests == 2 * len(pages) and done.covered == len(pages)
    assert Counter(server.seen) == Counter(
        (process, t.host, t.path) for t in pages for process in (0, 1)
    )
    # the first pass shared the rendering: half the pages to each process
    first = server.seen[: len(pages)]
    assert Counter(process for process, _, _ in first) == Counter({0: 20, 1: 20})


def test_spreading_stops_at_its_time_limit(
    two_processes: tuple[int, type[_TwoProcesses]],
) -> None:
    port, server = two_processes
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        done, asked = warmup.spread({7: [conn]}, [wrk.Target("a.localhost", "/")], seconds=0)
    finally:
        conn.close()
    assert not done.complete and asked == {7: 0} and server.seen == []
