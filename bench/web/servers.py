"""Processes the web bench starts — a private Redis, the app server — and stops again.

Every process gets its own session (process group) so a terminal's Ctrl-C reaches
only the bench, which then stops them in order: ``ManagedProcess.stop`` sends
SIGTERM to the whole group, waits, and SIGKILLs what is left. All of them listen on
loopback ports chosen by the kernel.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_LAUNCHER = ROOT / "deploy" / "web.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_s: float = 15.0) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Threads or children left in the group (a gunicorn worker) go too.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_until_answers(
    port: int,
    *,
    host: str = "localhost",
    path: str = "/healthz",
    timeout_s: float = 90.0,
    process: ManagedProcess | None = None,
) -> None:
    """Wait for an HTTP answer (any status) from 127.0.0.1:port, bounded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited early:\n{process.tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Host": host})
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    tail = process.tail() if process else ""
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} within {timeout_s:.0f} s\n{tail}")


def wait_for_redis(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"redis did not answer on 127.0.0.1:{port}")


@contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A throw-away redis-server on a loopback port (no persistence); yields its URL.

    The bench's own Redis keeps other suites' traffic out of the keyspace hit/miss
    counters and never touches anyone else's data.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = ManagedProcess(
        "redis",
        [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--maxmemory-policy", "noeviction",
        ],
        log=workdir / "redis.log",
    )  # fmt: skip
    try:
        wait_for_redis(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.stop()


def redis_stats(url: str) -> dict[str, int]:
    """keyspace_hits / keyspace_misses of the Redis at ``url`` (INFO stats), and how many
    MGET commands it answered: the host lookup of every request that got past the
    in-memory page cache makes exactly one (tenancy/hostcache.py)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("stats")
        commands = client.info("commandstats")
    finally:
        client.close()
    mget = commands.get("cmdstat_mget", {})
    return {
        "hits": int(info["keyspace_hits"]),
        "misses": int(info["keyspace_misses"]),
        "mget": int(mget.get("calls", 0)) if isinstance(mget, dict) else 0,
    }


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv if venv.exists() else Path(sys.executable))


def postgres_address(env: Mapping[str, str]) -> tuple[str, int]:
    """(host, port) of the database in DATABASE_URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(env["DATABASE_URL"])
    return (parts.hostname or "127.0.0.1", parts.port or 5432)


def app_server(
    port: int,
    *,
    env: Mapping[str, str],
    log: Path,
    workers: int | None = None,
    threads: int | None = None,
) -> ManagedProcess:
    """The production web server on 127.0.0.1:port: ``deploy/web.py``, the entry point
    ``make serve`` and the README's production section run (granian, threaded WSGI
    workers), sized by its own defaults unless ``workers``/``threads`` are given."""
    env = dict(env)
    env.update(PORT=str(port), WEB_HOST="127.0.0.1")
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads is not None:
        env["WEB_THREADS"] = str(threads)
    return ManagedProcess("app server", [python(), str(WEB_LAUNCHER)], log=log, env=env)


def app_server_command(env: Mapping[str, str]) -> str:
    """The command line ``deploy/web.py`` runs with this environment (for the report)."""
    import subprocess

    done = subprocess.run(
        [python(), str(WEB_LAUNCHER), "--print"],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip().replace(str(ROOT) + "/", "")


# --- what the caches hold -------------------------------------------------------------

PAGE_KEY_PATTERN = "*ops:page:*"  # ops/edgecache.py's Redis copies of visitor pages
_SERIES = re.compile(
    r"^courseplatform_(page_process_cache_\w+?)(?:_total)?(?:\{([^}]*)\})?\s+(\S+)$"
)


@dataclass(frozen=True)
class ProcessCache:
    """One web process's in-memory page cache (ops/pagecache.py), from /metrics."""

    pid: int
    entries: int
    bytes: int
    rss_bytes: int | None  # the whole process's resident memory (/proc), if readable


def parse_process_caches(text: str) -> tuple[list[ProcessCache], int]:
    """Per-process entries and bytes, and the evictions of every process together, from
    the Prometheus text of /metrics (multiprocess mode: one series per ``pid``)."""
    entries: dict[int, int] = {}
    sizes: dict[int, int] = {}
    evictions = 0
    for line in text.splitlines():
        found = _SERIES.match(line.strip())
        if not found:
            continue
        name, labels, value = found.groups()
        labels = labels or ""
        if name == "page_process_cache_evictions":
            evictions += int(float(value))
            continue
        pid_label = re.search(r'pid="(\d+)"', labels)
        if pid_label is None:
            continue
        pid = int(pid_label.group(1))
        if name == "page_process_cache_entries":
            entries[pid] = int(float(value))
        elif name == "page_process_cache_bytes":
            sizes[pid] = int(float(value))
    caches = [
        ProcessCache(pid, entries[pid], sizes.get(pid, 0), _rss(pid)) for pid in sorted(entries)
    ]
    return caches, evictions


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_caches(port: int) -> tuple[list[ProcessCache], int]:
    """Ask the app server's /metrics (on its IP host; the bench allows loopback)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/metrics", headers={"Host": f"127.0.0.1:{port}"})
        answer = conn.getresponse()
        text = answer.read().decode("utf-8", "replace")
    finally:
        conn.close()
    if answer.status != 200:
        raise RuntimeError(f"/metrics answered {answer.status}: {text[:200]}")
    return parse_process_caches(text)


@dataclass(frozen=True)
class RedisPages:
    keys: int  # visitor pages kept in Redis
    bytes_estimate: int  # keys x mean MEMORY USAGE of a sample of them
    used_memory: int  # the whole Redis (INFO memory)


def redis_pages(url: str, sample: int = 200) -> RedisPages:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = 0
        sizes: list[int] = []
        for key in client.scan_iter(match=PAGE_KEY_PATTERN, count=1000):
            keys += 1
            if len(sizes) < sample:
                sizes.append(int(client.memory_usage(key) or 0))
        used = int(client.info("memory")["used_memory"])
    finally:
        client.close()
    mean = sum(sizes) / len(sizes) if sizes else 0
    return RedisPages(keys=keys, bytes_estimate=int(mean * keys), used_memory=used)
