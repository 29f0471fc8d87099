"""Gunicorn settings: the one web-server configuration for `make serve`, `make demo`,
`make bench` and production (README "Production").

    gunicorn -c deploy/gunicorn.conf.py courseplatform.wsgi

(`scripts/serve.py` runs exactly that, next to the task worker and the video
watchdog.) Threaded workers (gthread): a page mostly waits on PostgreSQL and Redis,
so a few threads per process keep a core busy, and a slow client or a long upload
holds a thread, not a whole process. Sized from the cores this process may use; the
environment overrides every figure (README "Configuration").
"""

from __future__ import annotations

import os


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


def _cores() -> int:
    # The CPUs this process may run on (a container's or taskset's limit), not the host's.
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = f"{os.environ.get('WEB_HOST', '0.0.0.0')}:{_int_env('PORT', 8000)}"  # noqa: S104 (behind the edge)
worker_class = "gthread"
# One process per core (a Django request holds the GIL while it renders) and four
# threads each (while one waits on the database another renders).
workers = _int_env("WEB_CONCURRENCY", _cores())
threads = _int_env("WEB_THREADS", 4)
# Seconds a worker may stay silent before the master replaces it (a gthread worker's
# main loop stays responsive while requests run, so this is not a request time limit).
timeout = _int_env("WEB_TIMEOUT", 60)
# On SIGTERM, requests in flight get this long; scripts/serve.py waits a little longer.
graceful_timeout = max(1, _int_env("SERVE_STOP_SECONDS", 30) - 5)
keepalive = 5
# Requests are logged by the edge (Caddy) and the app; the access log costs throughput.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "courseplatform-web"
# Gunicorn 24+ opens a control socket at one fixed path per user (~/.gunicorn/), which
# two servers on one machine (a test next to `make serve`) would fight over; signals
# (HUP, TERM, TTIN/TTOU) do the same job.
control_socket_disable = True
