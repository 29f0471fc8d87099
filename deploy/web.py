"""The web server: granian (WSGI), and the one place its configuration lives.

    python deploy/web.py            # replaces itself with the granian process
    python deploy/web.py --print    # prints the command line instead

`scripts/serve.py` (behind `make serve`, `make demo` and production) starts its web
service this way; `make bench` serves through it too. Why granian and not gunicorn:
README "Serving". Threaded WSGI workers: one process per core the process may use
(a Django request holds the GIL while it renders), a few threads each (while one
waits on PostgreSQL or Redis another renders). Every figure can be overridden from
the environment (README "Configuration").
"""

from __future__ import annotations

import os
import sys

APP = "courseplatform.wsgi:application"


def _int_env(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def cores() -> int:
    """The CPUs this process may run on (a container's or taskset's limit)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One process per core, but only one without Redis.

    Without REDIS_URL (the embedded default of `make demo`) the cache is local memory,
    one per process: a page published through one process would stay stale in the
    others' caches (site versions, host lookups). Threads share one cache.
    """
    return cores() if os.environ.get("REDIS_URL") else 1


def granian_argv() -> list[str]:
    stop_seconds = _int_env("SERVE_STOP_SECONDS", 30)
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        os.environ.get("WEB_HOST", "0.0.0.0"),  # noqa: S104 (behind the edge)
        "--port",
        str(_int_env("PORT", 8000)),
        "--workers",
        str(_int_env("WEB_CONCURRENCY", default_workers())),
        "--blocking-threads",
        str(_int_env("WEB_THREADS", 4)),
        "--no-ws",
        # A worker process that dies is replaced; the others keep serving meanwhile.
        "--respawn-failed-workers",
        # On SIGTERM requests in flight get this long; scripts/serve.py waits 5 s more.
        # It also bounds a stop that arrives while workers are still starting: granian
        # 2.8 then never hears back from them and, without a timeout, waits forever.
        "--workers-kill-timeout",
        str(max(1, stop_seconds - 5)),
        # Requests are logged by the edge (Caddy); an access log here costs throughput.
        "--no-access-log",
        "--log-level",
        os.environ.get("LOG_LEVEL", "info").lower(),
        APP,
    ]


def main() -> None:
    argv = granian_argv()
    if sys.argv[1:] == ["--print"]:
        print(" ".join(argv))
        return
    os.execv(argv[0], argv)  # noqa: S606 (our own argv, no shell wanted)


if __name__ == "__main__":
    main()
