"""The warm-up pass before a measured run (bench/web/warmup.py): wrk's order, every
target once per pass from a different connection each pass, cut short by its limit."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.web import report, warmup
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
