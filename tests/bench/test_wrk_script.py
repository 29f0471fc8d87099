"""The wrk side of `make bench`: the result parser, the targets file and the Lua
script's host rotation, driven by the real wrk against a small loopback server."""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.web import wrk

SAMPLE_OUTPUT = """Running 8s test @ http://127.0.0.1:41234/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.10ms    2.01ms  40.00ms   90.00%
  9000 requests in 8.00s, 20.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1125.00
WRK_RESULT {"requests": 9000, "duration_us": 8000000, "bytes": 20971520, \
"connect_errors": 1, "read_errors": 2, "write_errors": 0, "status_errors": 3, \
"timeouts": 4, "p50_us": 4800, "p90_us": 7000, "p95_us": 8100, "p99_us": 15250, \
"mean_us": 5100.5, "max_us": 40000}
"""


def test_parse_output_reads_the_result_line() -> None:
    result = wrk.parse_output(SAMPLE_OUTPUT)
    assert result.requests == 9000
    assert result.duration_s == pytest.approx(8.0)
    assert result.throughput == pytest.approx(1125.0)
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (4.8, 8.1, 15.25)
    assert result.status_errors == 3
    assert result.socket_errors == 1 + 2 + 0 + 4
    assert result.errors == 10


def test_parse_output_without_a_result_line_is_an_error() -> None:
    with pytest.raises(wrk.WrkError, match="no WRK_RESULT"):
        wrk.parse_output("Running 8s test @ http://127.0.0.1:1/\nunable to connect\n")


def test_a_target_with_a_tab_or_a_relative_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tabs or line breaks"):
        wrk.write_targets(tmp_path / "t.tsv", [wrk.Target("a.localhost", "/", "x=1\ty=2")])
    with pytest.raises(ValueError, match="starts with"):
        wrk.Target("a.localhost", "courses/").as_line()
    with pytest.raises(ValueError, match="no targets"):
        wrk.write_targets(tmp_path / "t.tsv", [])


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen: list[tuple[int, str, str, str]]
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.seen.append(
                (
                    self.client_address[1],
                    self.headers.get("Host", ""),
                    self.path,
                    self.headers.get("Cookie", ""),
                )
            )
        status = 404 if self.path == "/missing/" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[tuple[int, str, str, str]]]]:
    seen: list[tuple[int, str, str, str]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


TARGETS = [
    wrk.Target("alpha.localhost:8000", "/", "sessionid=A"),
    wrk.Target("bravo.localhost:8000", "/courses/"),
    wrk.Target("charlie.localhost:8000", "/missing/", "sessionid=C"),
    wrk.Target("delta.localhost:8000", "/my/", "sessionid=D"),
    wrk.Target("echo.localhost:8000", "/courses/x/", ""),
]


def test_rotation_walks_the_targets_in_order_on_every_connection(
    recorder: tuple[int, list[tuple[int, str, str, str]]], tmp_path: Path
) -> None:
    port, seen = recorder
    targets_file = tmp_path / "targets.tsv"
    assert wrk.write_targets(targets_file, TARGETS) == len(TARGETS)

    result = wrk.run(f"http://127.0.0.1:{port}/", targets_file, seconds=1, threads=2, connections=2)

    assert result.requests >= 2 * len(TARGETS)
    by_host = {t.host: t for t in TARGETS}
    order = [t.host for t in TARGETS]
    per_connection: dict[int, list[str]] = {}
    for client_port, host, path, cookie in seen:
        # Each request carries its own target's path and cookie, never a neighbour's.
        assert (path, cookie) == (by_host[host].path, by_host[host].cookie)
        per_connection.setdefault(client_port, []).append(host)
    assert len(per_connection) == 2
    starts = set()
    for hosts in per_connection.values():
        starts.add(hosts[0])
        for previous, current in itertools.pairwise(hosts):
            assert order.index(current) == (order.index(previous) + 1) % len(order)
    # The two threads start at different places of the list (thread i at i*N/n).
    assert len(starts) == 2
    # Every host is asked for, and only the /missing/ answers (404) count as errors.
    assert {host for _, host, _, _ in seen} == set(order)
    missing = sum(1 for _, _, path, _ in seen if path == "/missing/")
    assert result.status_errors == pytest.approx(missing, abs=2)
    assert result.socket_errors == 0
