"""``/metrics`` under the real serving stack: ``scripts/serve.py`` with two granian worker
processes and the task worker, all writing to one ``PROMETHEUS_MULTIPROC_DIR``. Whichever
worker answers the scrape, it adds up every process: the requests both web workers
served, and the task the task worker ran."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from courseplatform.ops.tests.metrics_support import TOKEN, Scrape, parse
from tests.test_serve import (
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    Stack,
    _children,
    _free_port,
    _no_proxy,
    _start_supervisor,
    _tail,
    _wait_for,
)

HEALTHZ = "courseplatform_http_request_duration_seconds_count"


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def metrics_stack(
    tmp_path: Path, django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[tuple[Stack, Path]]:
    from django.db import connections

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for connection in connections.all():
            connection.close()
    directory = tmp_path / "prometheus"
    directory.mkdir()
    # Left by a process of an earlier run: the supervisor removes it at start (garbage
    # in it would otherwise break every scrape).
    (directory / f"counter_{_dead_pid()}.db").write_bytes(b"not a metrics file")
    port = _free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ)
    env.update(
        {
            "PORT": str(port),
            "WEB_HOST": "127.0.0.1",
            "PLATFORM_DOMAIN": "localhost",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "2",
            "SERVE_STOP_SECONDS": "40",
            "LOG_FORMAT": "json",
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
            "METRICS_TOKEN": TOKEN,
        }
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = _start_supervisor(["web", "worker"], env, log)
    stack = Stack(process=process, port=port, log=log)
    try:
        _wait_for(
            "the web server to answer /healthz",
            lambda: process.poll() is not None or stack.get("/healthz") == 200,
            log,
            STARTUP_TIMEOUT,
        )
        assert process.poll() is None, f"serve.py exited with {process.returncode}\n{_tail(log)}"
        _wait_for("the worker to start", lambda: "Starting worker" in stack.log_text(), log)
        yield stack, directory
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _scrape(stack: Stack) -> Scrape:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.port}/metrics",
        headers={"Host": f"localhost:{stack.port}", "Authorization": f"Bearer {TOKEN}"},
    )
    with _no_proxy.open(request, timeout=30) as response:
        assert response.status == 200
        return parse(response.read().decode())


def _pids_with_files(directory: Path) -> set[int]:
    return {
        int(match.group(1))
        for path in directory.iterdir()
        if (match := re.search(r"^histogram_(\d+)\.db$", path.name))
    }


@pytest.mark.django_db(transaction=True)
def test_metrics_add_up_both_web_workers_and_the_task_worker(
    metrics_stack: tuple[Stack, Path], tmp_path: Path
) -> None:
    from django.db import connections

    from tests.fixtures.tasks import write_marker

    stack, directory = metrics_stack
    master = stack.service_pid("granian")
    assert master
    web_workers = set(_children(master))
    assert len(web_workers) == 2, _tail(stack.log)
    # The earlier run's file is gone (else every scrape would fail on it).
    assert all(b"not a metrics file" not in path.read_bytes() for path in directory.iterdir())
    before = _scrape(stack).value(HEALTHZ, route="healthz")

    # Requests in parallel until both web workers have answered some (the kernel hands
    # connections to either), counting every 200.
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(50):
            answers = list(pool.map(lambda _: stack.get("/healthz"), range(40)))
            assert set(answers) == {200}
            sent += len(answers)
            if web_workers <= _pids_with_files(directory):
                break
    assert web_workers <= _pids_with_files(directory), "one web worker answered everything"

    after = _scrape(stack)
    assert after.value(HEALTHZ, route="healthz") - before == sent
    assert after.value("courseplatform_http_requests_in_flight") == 1  # the scrape itself

    # A task run by the worker process shows in the web server's answer.
    marker = tmp_path / "ran.txt"
    for connection in connections.all():
        connection.close()
    write_marker.enqueue(str(marker), uuid.uuid4().hex)
    _wait_for("the task to run", marker.exists, stack.log)
    task = "tests.fixtures.tasks.write_marker"
    _wait_for(
        "the task's series",
        lambda: (
            _scrape(stack).value("courseplatform_tasks_total", task=task, status="SUCCESSFUL") == 1
        ),
        stack.log,
    )

    # A web worker killed mid-life is replaced; what it counted stays in the sum.
    victim = next(iter(web_workers))
    os.kill(victim, signal.SIGKILL)
    _wait_for(
        "granian to respawn the worker",
        lambda: len([pid for pid in _children(master) if pid != victim]) == 2,
        stack.log,
    )
    _wait_for("the new worker to answer", lambda: stack.get("/healthz") == 200, stack.log)
    final = _scrape(stack)
    assert final.value(HEALTHZ, route="healthz") >= before + sent
    assert final.value("courseplatform_http_requests_in_flight") == 1


def test_the_supervisor_keeps_its_metrics_under_var_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import serve

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    assert serve.metrics_directory() == tmp_path / "var" / "prometheus"
    directory = serve.prepare_metrics_directory()
    assert directory.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
    gone, alive = (
        directory / f"gauge_livesum_{_dead_pid()}.db",
        directory / f"counter_{os.getpid()}.db",
    )
    gone.write_bytes(b"x")
    alive.write_bytes(b"x")
    (directory / "notes.txt").write_text("not ours")
    serve.prepare_metrics_directory()
    assert not gone.exists() and alive.exists() and (directory / "notes.txt").exists()


def test_a_dead_process_in_flight_gauge_is_dropped_at_scrape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from courseplatform.ops import prometheus

    # A process that died in the middle of a request: its gauge says 1 in flight.
    script = (
        "from prometheus_client import Gauge\n"
        "Gauge('courseplatform_http_requests_in_flight', 'x', multiprocess_mode='livesum').inc()\n"
    )
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("gauge_livesum_")]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(prometheus, "_scrape_registry", prometheus.CollectorRegistry())
    scrape = parse(prometheus.exposition().decode())
    assert scrape.value("courseplatform_http_requests_in_flight") == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("gauge_livesum_")]
