"""`scripts/serve.py`, the production entry point, with real processes.

The supervisor runs granian (deploy/web.py), the db_worker and the periodic jobs
(video watchdog, custom-domain re-check) against the suite's PostgreSQL database on a
free loopback port. The tests kill the worker (it is restarted, the web server keeps
answering; the periodic jobs run meanwhile), cut the worker's
database connections while PostgreSQL refuses new ones (the worker waits with backoff
in the same process, then runs a task), and stop the supervisor with SIGTERM
(everything stops, exit code 0). Every wait is bounded but generous: the machine may
be a loaded 2-core box.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 180.0
WAIT_TIMEOUT = 180.0
STOP_TIMEOUT = 90.0
_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(
    what: str, check: Callable[[], object], log: Path, timeout: float = WAIT_TIMEOUT
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{_tail(log)}")
        time.sleep(0.3)


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        return "log tail:\n" + path.read_text(errors="replace")[-limit:]
    except OSError as exc:
        return f"<no log: {exc}>"


def _children(pid: int) -> dict[int, str]:
    """Direct children of ``pid``: {pid: command line}."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _admin_connect() -> psycopg.Connection:
    admin = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return psycopg.connect(admin.rsplit("/", 1)[0] + "/" + _database(), autocommit=True)


def _database() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[1]


def _start_supervisor(
    services: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """``scripts/serve.py`` in its own session (so the test can signal its group)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "scripts/serve.py", *services],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def get(self, path: str, host: str = "localhost") -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Host": f"{host}:{self.port}"}
        )
        try:
            with _no_proxy.open(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, OSError):
            return 0

    def service_pid(self, marker: str) -> int | None:
        for pid, argv in _children(self.process.pid).items():
            if marker in argv:
                return pid
        return None

    def worker_pid(self) -> int | None:
        return self.service_pid("db_worker")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self, name: str) -> list[dict[str, object]]:
        """The JSON log lines (supervisor and Django processes) whose event is ``name``."""
        found = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut off while it was being written
                if entry.get("event") == name:
                    found.append(entry)
        return found


@pytest.fixture
def serve_stack(
    tmp_path: Path, django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[Stack]:
    from django.db import connections

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for connection in connections.all():
            connection.close()
    port = _free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ)
    env.update(
        {
            "PORT": str(port),
            "WEB_HOST": "127.0.0.1",
            "PLATFORM_DOMAIN": "localhost",
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "2",
            "TASK_WORKER_RECONNECT_MAX_SECONDS": "3",
            "PERIODIC_INTERVAL_SECONDS": "3",
            "SERVE_STOP_SECONDS": "40",
            "LOG_FORMAT": "json",
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = _start_supervisor([], env, log)
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
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_killed_worker_is_restarted_while_the_web_server_keeps_answering(
    serve_stack: Stack,
) -> None:
    stack = serve_stack
    web = stack.service_pid("granian")
    worker = stack.worker_pid()
    assert web and worker, _tail(stack.log)
    assert stack.get("/") == 200  # the platform home: a real page, from the database

    os.kill(worker, signal.SIGKILL)
    # While the supervisor waits out its backoff, the web server answers as before.
    assert stack.get("/") == 200
    assert stack.get("/healthz") == 200
    restarted = _wait_for(
        "a new worker process",
        lambda: (pid := stack.worker_pid()) and pid != worker and pid,
        stack.log,
    )
    exits = stack.events("serve.exited")
    assert [(e["service"], e["pid"], e["exit_code"]) for e in exits] == [("worker", worker, -9)]
    _wait_for(
        "the new worker to start polling",
        lambda: stack.log_text().count("Starting worker") >= 2,
        stack.log,
    )
    assert stack.service_pid("granian") == web, "the web server was restarted too"
    assert _alive(web) and _alive(int(restarted))  # type: ignore[arg-type]
    assert stack.get("/") == 200
    # Meanwhile the periodic jobs ran, each to a clean end, as the platform role.
    _wait_for(
        "every periodic job to finish a run",
        lambda: (
            {e["job"] for e in stack.events("serve.periodic_done")}
            == {
                "reclaim_stalled_videos",
                "verify_custom_domains",
                "refresh_analytics",
                "send_unlock_emails",
                "resume_announcements",
                "resume_imports",
                "expire_video_uploads",
                "expire_api_idempotency_keys",
                "prune_webhook_deliveries",
                "purge_closed_schools",
                "purge_course_archives",
                "expire_school_exports",
            }
        ),
        stack.log,
    )
    assert stack.events("serve.periodic_failed") == []


def test_a_killed_web_worker_process_is_replaced_by_granian(serve_stack: Stack) -> None:
    stack = serve_stack
    master = stack.service_pid("granian")
    assert master
    (first,) = _children(master)  # WEB_CONCURRENCY=1
    os.kill(first, signal.SIGKILL)
    replaced = _wait_for(
        "granian to respawn its worker",
        lambda: [pid for pid in _children(master) if pid != first],
        stack.log,
    )
    assert len(replaced) == 1  # type: ignore[arg-type]
    _wait_for("the new worker to answer", lambda: stack.get("/") == 200, stack.log)
    assert stack.service_pid("granian") == master  # the supervisor had nothing to do
    assert stack.events("serve.exited") == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_losing_its_database_and_then_runs_tasks(
    serve_stack: Stack, tmp_path: Path
) -> None:
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from tests.fixtures.tasks import write_marker

    stack = serve_stack
    worker = stack.worker_pid()
    assert worker

    def worker_backends() -> list[int]:
        with _admin_connect() as admin:
            rows = admin.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = 'courseplatform-worker' AND datname = %s",
                [_database()],
            ).fetchall()
        return [pid for (pid,) in rows]

    # The worker holds a connection to the task table between polls.
    _wait_for("the worker's database connection", worker_backends, stack.log)

    database = sql.Identifier(_database())
    with _admin_connect() as admin:
        try:
            # PostgreSQL now refuses every new connection of the app's roles (the
            # "out of connection slots" outage), and the worker's sessions are cut.
            admin.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT 0").format(database))
            for pid in worker_backends():
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            _wait_for(
                "two reconnect attempts logged by the worker",
                lambda: len(stack.events("worker.database_unavailable")) >= 2,
                stack.log,
            )
            assert stack.worker_pid() == worker, "the worker process exited"
            assert stack.get("/healthz") == 200
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT -1").format(database))

    _wait_for(
        "the worker to reconnect",
        lambda: stack.events("worker.database_reconnected"),
        stack.log,
    )
    assert stack.worker_pid() == worker, "the worker was restarted instead of reconnecting"

    marker = tmp_path / "ran.txt"
    text = uuid.uuid4().hex
    for connection in connections.all():
        connection.close()  # this process's connections were cut too
    result = write_marker.enqueue(str(marker), text)
    _wait_for("the task to run", marker.exists, stack.log)
    assert marker.read_text() == text
    _wait_for(
        "the task's result",
        lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL",
        stack.log,
    )
    assert stack.worker_pid() == worker
    assert stack.events("serve.exited") == []
    # The waits grew: 1 s, then 2 s, capped at TASK_WORKER_RECONNECT_MAX_SECONDS (3).
    waits = [e["retry_in_seconds"] for e in stack.events("worker.database_unavailable")]
    assert waits[0] <= 1.2 and waits[1] >= 1.6 and max(waits) <= 3.6, waits


def test_sigterm_stops_every_process_and_exits_zero(serve_stack: Stack) -> None:
    stack = serve_stack
    supervisor = stack.process
    children = _children(supervisor.pid)
    web_master = stack.service_pid("granian")
    assert web_master and stack.worker_pid()
    web_workers = _children(web_master)
    assert web_workers

    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=STOP_TIMEOUT) == 0, _tail(stack.log)
    for pid in [*children, *web_workers]:
        assert not _alive(pid), f"process {pid} outlived the supervisor\n{_tail(stack.log)}"
    assert stack.get("/healthz") == 0  # nothing listens on the port any more
    assert stack.events("serve.stopped")
    assert stack.events("serve.killed") == []  # all stopped within the grace time


def test_a_web_server_that_cannot_start_ends_the_supervisor_with_exit_1(tmp_path: Path) -> None:
    # The port is taken, so granian fails at every start: after WEB_START_ATTEMPTS quick
    # failures there is nothing to serve, and the supervisor stops the worker and says so.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        log = tmp_path / "serve.log"
        env = dict(os.environ, PORT=str(port), WEB_HOST="127.0.0.1", WEB_CONCURRENCY="1")
        env.update(WEB_START_ATTEMPTS="2", LOG_FORMAT="json", PYTHONUNBUFFERED="1")
        process = _start_supervisor(["web", "worker"], env, log)
        try:
            code = process.wait(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"the supervisor kept going without a web server\n{_tail(log)}")
    stack = Stack(process=process, port=port, log=log)
    assert code == 1, _tail(log)
    assert [e["service"] for e in stack.events("serve.exited")] == ["web"]
    (gave_up,) = stack.events("serve.giving_up")
    assert gave_up["service"] == "web" and gave_up["attempts"] == 2
    (stopping,) = stack.events("serve.stopping")
    assert stopping["services"] == ["worker"]  # the worker was running, and was stopped
    assert stack.events("serve.killed") == []


def test_web_processes_follow_the_cores_with_redis_and_are_one_without() -> None:
    def workers(**env: str) -> int:
        base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")}
        printed = subprocess.run(
            [sys.executable, "deploy/web.py", "--print"],
            cwd=REPO_ROOT,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
        return int(printed[printed.index("--workers") + 1])

    cores = len(os.sched_getaffinity(0))
    assert workers(REDIS_URL="redis://127.0.0.1:6379/1") == cores
    # The embedded default's local-memory cache is per process: one process only.
    assert workers() == 1
    assert workers(WEB_CONCURRENCY="3") == 3
    bad = subprocess.run(
        [sys.executable, "deploy/web.py", "--print"],
        cwd=REPO_ROOT,
        env={**os.environ, "WEB_THREADS": "many"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "WEB_THREADS must be a whole number" in bad.stderr


def test_services_stop_when_the_supervisor_is_killed_outright(serve_stack: Stack) -> None:
    # SIGKILL cannot be handled: the services (own sessions, so no terminal or group
    # signal reaches them) learn of it from the kernel (PR_SET_PDEATHSIG) and stop.
    stack = serve_stack
    services = _children(stack.process.pid)
    master = stack.service_pid("granian")
    assert master and stack.worker_pid()
    processes = [*services, *_children(master)]
    stack.process.kill()
    stack.process.wait(timeout=STOP_TIMEOUT)
    try:
        _wait_for(
            "every service to stop after the supervisor was killed",
            lambda: not any(_alive(pid) for pid in processes),
            stack.log,
            timeout=STOP_TIMEOUT,
        )
        assert stack.get("/healthz") == 0
    finally:
        for pid in processes:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
