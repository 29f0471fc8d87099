"""Run courseplatform: the web server, the task worker and the periodic jobs, supervised.

    python scripts/serve.py [--dev] [web] [worker] [periodic]     (default: all three)

* web      - granian (WSGI, threaded workers), configured by deploy/web.py
             (`--dev`: Django's runserver with autoreload instead).
* worker   - `manage.py db_worker --queue-name '*'` (our db_worker reconnects by itself
             after a database outage; `--dev` reloads it on code changes).
* periodic - each of PERIODIC_COMMANDS as its own `manage.py ... --quiet` process,
             stopped after PERIODIC_TIMEOUT_SECONDS: every PERIODIC_INTERVAL_SECONDS
             the video watchdog `reclaim_stalled_videos`, the custom-domain
             re-check `verify_custom_domains`, the analytics rollups
             `refresh_analytics`, the drip unlock emails `send_unlock_emails` and
             `resume_announcements` and `resume_imports` (batches a stopped worker
             left behind);
             every PERIODIC_HOUSEKEEPING_INTERVALS
             intervals (an hour by default) the housekeeping `expire_video_uploads`,
             `expire_api_idempotency_keys`, `prune_webhook_deliveries`,
             `purge_closed_schools`, `purge_course_archives` and `expire_school_exports`.

A service that exits on its own is restarted after a capped exponential backoff
(1 s, 2 s, 4 s ... 60 s; a service that ran for a minute starts over at 1 s) and the
others keep running: a crashed worker never takes the web server down. Only a web
server that keeps dying at start-up (WEB_START_ATTEMPTS times in a row, each within a
minute) ends the supervisor with exit code 1, because then nothing is being served.
SIGTERM or Ctrl-C (SIGINT) stops every service with SIGTERM, waits up to
SERVE_STOP_SECONDS, kills what is left and exits 0; a second signal kills at once.
Each service runs in its own process group (so a terminal's Ctrl-C reaches only this
supervisor, which then stops them in order) and connects to PostgreSQL with the
application_name `courseplatform-<service>` (PGAPPNAME), visible in pg_stat_activity.

Standard library plus structlog only: it never imports Django.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import structlog

ROOT = Path(__file__).resolve().parent.parent
WEB_LAUNCHER = ROOT / "deploy" / "web.py"
SERVICES = ("web", "worker", "periodic")
# Management commands run periodically (each with --quiet), with how often: "tick" every
# PERIODIC_INTERVAL_SECONDS, "housekeeping" every PERIODIC_HOUSEKEEPING_INTERVALS ticks.
# Every job's first run comes one tick after start.
PERIODIC_COMMANDS = (
    ("reclaim_stalled_videos", "tick"),  # video watchdog: re-queue transcodes without heartbeat
    ("verify_custom_domains", "tick"),  # re-check the DNS proof of custom domains that are due
    ("refresh_analytics", "tick"),  # recompute the analytics rollups of schools that are due
    ("send_unlock_emails", "tick"),  # queue drip "new content is open" emails (notices app)
    ("resume_announcements", "tick"),  # announcements whose batch a stopped worker left
    ("resume_imports", "tick"),  # bulk student imports whose batch a stopped worker left
    # Housekeeping: work that is due after hours or days, so an hourly sweep is plenty
    # (and costs no query per school every minute).
    ("expire_video_uploads", "housekeeping"),  # uploads abandoned for a week
    ("expire_api_idempotency_keys", "housekeeping"),  # stored API answers older than 24 h
    ("prune_webhook_deliveries", "housekeeping"),  # delivery log entries older than 30 days
    ("purge_closed_schools", "housekeeping"),  # closed schools past their grace period
    ("purge_course_archives", "housekeeping"),  # course exports past expiry, stale uploads
    ("expire_school_exports", "housekeeping"),  # whole-school exports past their lifetime
)

FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 60.0
# A service that ran this long before exiting counts as having started fine.
STABLE_SECONDS = 60.0
POLL_SECONDS = 0.25
PR_SET_PDEATHSIG = 1  # linux/prctl.h

log = structlog.get_logger("serve")


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be positive, not {raw!r}")
    return value


def _configure_logging() -> None:
    renderer = (
        structlog.dev.ConsoleRenderer()
        if os.environ.get("LOG_FORMAT", "json") == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def command_for(service: str, *, dev: bool) -> list[str]:
    """The argv of a long-running service."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    port = os.environ.get("PORT", "8000")
    if service == "web" and dev:
        return [*manage, "runserver", f"{os.environ.get('WEB_HOST', '0.0.0.0')}:{port}"]  # noqa: S104
    if service == "web":
        return [sys.executable, str(WEB_LAUNCHER)]
    if service == "worker":
        return [*manage, "db_worker", "--queue-name", "*", "--reload" if dev else "--no-reload"]
    raise ValueError(service)


def periodic_command(name: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), name, "--quiet"]


@dataclass
class Service:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive exits soon after start
    restart_at: float | None = None


@dataclass
class PeriodicJob:
    name: str
    argv: list[str]
    interval: float
    timeout: float
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    next_run: float = field(default_factory=time.monotonic)


def _stop_with_supervisor() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL.

    The services run in their own sessions, so nothing else would stop them if this
    process were killed outright (Linux only; elsewhere a service outlives a killed
    supervisor).
    """
    supervisor = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != supervisor:  # it died between fork and prctl
        os.kill(os.getpid(), signal.SIGTERM)


# prometheus-client's per-process files: counter_1234.db, gauge_livesum_1234.db, …
_METRICS_FILE = re.compile(r"_(\d+)\.db$")


def metrics_directory() -> Path:
    """PROMETHEUS_MULTIPROC_DIR, by default VAR_DIR/prometheus (README "Metrics")."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if configured:
        return Path(configured)
    return Path(os.environ.get("VAR_DIR", "").strip() or ROOT / "var") / "prometheus"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def prepare_metrics_directory() -> Path:
    """Create the directory the web and worker processes write their metrics to, and
    remove the files of processes that are gone (an earlier run's).

    Files of live processes stay: another supervisor on the same host (``serve.py
    worker`` next to ``serve.py web``) may share the directory. A counter that loses
    its dead process's file is seen by Prometheus as a reset, which ``rate()`` handles.
    """
    directory = metrics_directory()
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        match = _METRICS_FILE.search(path.name)
        if match and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def _spawn(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PGAPPNAME"] = f"courseplatform-{name}"
    if name == "periodic":
        # A run every minute would leave a set of files per process id behind, and
        # the periodic jobs record no series that /metrics needs.
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        # Safe here: the supervisor has a single thread.
        preexec_fn=_stop_with_supervisor if sys.platform == "linux" else None,
    )


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The whole group: granian's workers and the autoreloader's child included.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _backoff(failures: int) -> float:
    return float(min(MAX_RESTART_SECONDS, FIRST_RESTART_SECONDS * 2 ** min(failures - 1, 16)))


class Supervisor:
    def __init__(self, services: list[str], *, dev: bool) -> None:
        self.dev = dev
        self.services = [
            Service(name, command_for(name, dev=dev)) for name in services if name != "periodic"
        ]
        interval = _float_env("PERIODIC_INTERVAL_SECONDS", 60)
        intervals = {
            "tick": interval,
            "housekeeping": interval * _float_env("PERIODIC_HOUSEKEEPING_INTERVALS", 60),
        }
        timeout = _float_env("PERIODIC_TIMEOUT_SECONDS", 120)
        # The first runs come one interval after start, when the web server is up.
        first_run = time.monotonic() + interval
        self.periodic = [
            PeriodicJob(name, periodic_command(name), intervals[every], timeout, next_run=first_run)
            for name, every in (PERIODIC_COMMANDS if "periodic" in services else ())
        ]
        self.stop_seconds = _float_env("SERVE_STOP_SECONDS", 30)
        self.web_start_attempts = int(_float_env("WEB_START_ATTEMPTS", 5))
        self.stop_requested: signal.Signals | None = None
        self.kill_now = False

    # --- signals -----------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested is not None:
            self.kill_now = True
            return
        self.stop_requested = signal.Signals(signum)

    # --- running -----------------------------------------------------------------
    def _start(self, service: Service) -> None:
        service.process = _spawn(service.name, service.argv)
        service.started_at = time.monotonic()
        service.restart_at = None
        log.info("serve.started", service=service.name, pid=service.process.pid)

    def _reap(self, service: Service, now: float) -> int | None:
        """Handle a service that exited by itself; returns an exit code to stop with."""
        process = service.process
        if process is None or process.poll() is None:
            return None
        service.process = None
        # Leftovers of its group (a granian worker, an autoreloader child) go too.
        _signal_group(process, signal.SIGKILL)
        ran_for = now - service.started_at
        service.failures = 1 if ran_for >= STABLE_SECONDS else service.failures + 1
        if service.name == "web" and service.failures >= self.web_start_attempts:
            log.error(
                "serve.giving_up",
                service=service.name,
                exit_code=process.returncode,
                attempts=service.failures,
            )
            return 1
        delay = _backoff(service.failures)
        service.restart_at = now + delay
        log.warning(
            "serve.exited",
            service=service.name,
            pid=process.pid,
            exit_code=process.returncode,
            ran_seconds=round(ran_for, 1),
            restart_in_seconds=delay,
        )
        return None

    def _tick_periodic(self, job: PeriodicJob, now: float) -> None:
        """Reap the job's last run (killed past its timeout) and start the next when due."""
        if job.process is not None:
            code = job.process.poll()
            if code is None:
                if now - job.started_at > job.timeout:
                    log.warning("serve.periodic_timeout", job=job.name, timeout_seconds=job.timeout)
                    _signal_group(job.process, signal.SIGKILL)
                    job.process.wait()
                    job.process = None
                return
            seconds = round(now - job.started_at, 1)
            if code != 0:
                log.warning("serve.periodic_failed", job=job.name, exit_code=code, seconds=seconds)
            else:
                log.info("serve.periodic_done", job=job.name, seconds=seconds)
            job.process = None
        if now >= job.next_run:
            job.process = _spawn("periodic", job.argv)
            job.started_at = now
            job.next_run = now + job.interval

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        exit_code = 0
        reason = "giving up"
        try:
            for service in self.services:
                self._start(service)
            while self.stop_requested is None:
                now = time.monotonic()
                for service in self.services:
                    code = self._reap(service, now)
                    if code is not None:
                        exit_code = code
                        break
                    if service.restart_at is not None and now >= service.restart_at:
                        self._start(service)
                if exit_code:
                    break
                for job in self.periodic:
                    self._tick_periodic(job, now)
                time.sleep(POLL_SECONDS)
            if self.stop_requested is not None:
                reason = self.stop_requested.name
        except BaseException:
            # A bug here must not leave the services running unsupervised.
            log.exception("serve.supervisor_failed")
            exit_code, reason = 1, "supervisor failed"
        self._stop_all(reason=reason)
        return exit_code

    def _running(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        processes = [(s.name, s.process) for s in self.services if s.process is not None]
        processes += [(job.name, job.process) for job in self.periodic if job.process is not None]
        return [(name, p) for name, p in processes if p.poll() is None]

    def _stop_all(self, *, reason: str) -> None:
        running = self._running()
        log.info("serve.stopping", reason=reason, services=[name for name, _ in running])
        for _, process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_seconds
        while self._running() and time.monotonic() < deadline and not self.kill_now:
            time.sleep(POLL_SECONDS)
        for name, process in self._running():
            log.warning("serve.killed", service=name, pid=process.pid)
            _signal_group(process, signal.SIGKILL)
        for _, process in running:
            process.wait()
            # Whatever the group still holds (children that ignored TERM) goes as well.
            _signal_group(process, signal.SIGKILL)
        log.info("serve.stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", nargs="*", help="web, worker, periodic (default: all three)")
    parser.add_argument(
        "--dev", action="store_true", help="runserver with autoreload; the worker reloads too"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service {', '.join(unknown)} (choose from {', '.join(SERVICES)})")
    _configure_logging()
    services = list(dict.fromkeys(args.services)) or list(SERVICES)
    if {"web", "worker"} & set(services):
        # The web processes and the task worker write here; /metrics adds them up.
        log.info("serve.metrics_directory", path=str(prepare_metrics_directory()))
    default_public_port(os.environ)
    if args.dev:
        os.environ.setdefault("DEBUG", "true")
    if "web" in services:
        print(banner(os.environ), file=sys.stderr, flush=True)
    return Supervisor(services, dev=args.dev).run()


def default_public_port(environ: MutableMapping[str, str]) -> None:
    """Links built outside a request (emails from the worker) use PLATFORM_PORT. Served
    directly (http), the public port is the web server's PORT; behind the HTTPS edge
    (PLATFORM_SCHEME=https) PORT is the edge's upstream, never public, so it stays unset
    and the settings use the scheme's own port (443)."""
    if environ.get("PLATFORM_SCHEME", "http") != "https":
        environ.setdefault("PLATFORM_PORT", environ.get("PORT", "8000"))


def banner(environ: Mapping[str, str]) -> str:
    """Where the platform answers: the public address, and the server's own behind an edge."""
    scheme = environ.get("PLATFORM_SCHEME", "http")
    domain = environ.get("PLATFORM_DOMAIN", "localhost")
    port = environ.get("PORT", "8000")
    public_port = environ.get("PLATFORM_PORT", "" if scheme == "https" else port)
    suffix = f":{public_port}" if public_port not in ("", {"http": "80"}.get(scheme, "443")) else ""
    text = (
        f"Platform: {scheme}://{domain}{suffix}/   (schools at {scheme}://<slug>.{domain}{suffix}/)"
    )
    if scheme == "https":
        text += f"\nWeb server for the edge: http://{environ.get('WEB_HOST', '0.0.0.0')}:{port}/"  # noqa: S104
    return text


if __name__ == "__main__":
    sys.exit(main())
