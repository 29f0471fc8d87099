"""``manage.py db_worker``: django-tasks-db's worker, made to outlive database outages.

Upstream's loop lets every database error but "database is locked" escape, so the
worker process exits when PostgreSQL restarts, a connection is terminated, or the
server runs out of connection slots (seen in production-like testing). This command
(it takes the name: our apps come before ``django_tasks_db`` in INSTALLED_APPS) runs
the same loop inside a recovery loop: on ``OperationalError``/``InterfaceError`` it
closes every connection, waits with capped exponential backoff (logging each retry),
probes the database until it answers, and resumes polling. A task whose result could
not be written because the database went away is marked failed once it is back,
rather than staying "running" forever. Options are upstream's.
"""

from __future__ import annotations

import os
import random
import time
from contextlib import suppress
from typing import Any

import structlog
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult

logger = structlog.get_logger(__name__)

# The errors that mean "the database is unreachable or dropped us", as opposed to a
# bug: a bug (ProgrammingError, IntegrityError...) still ends the process, and the
# supervisor (scripts/serve.py) restarts it with its own backoff.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
FIRST_RETRY_SECONDS = 1.0


class ResilientWorker(upstream.Worker):
    """The upstream worker loop, restarted after the database comes back."""

    def __init__(self, *, max_backoff_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_backoff_seconds = max(FIRST_RETRY_SECONDS, max_backoff_seconds)
        # The task whose run was cut off by a connection error (its row says RUNNING).
        self._interrupted: DBTaskResult | None = None

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self._interrupted = db_task_result
        super().run_task(db_task_result)
        self._interrupted = None

    def run(self) -> None:
        failures = 0
        recovered_at: float | None = None
        while self.running:
            try:
                super().run()
                return  # --batch or --max-tasks finished normally
            except CONNECTION_ERRORS as exc:
                # A database that drops us again right after answering keeps the
                # backoff growing; one that stayed up for a while starts it over.
                if (
                    recovered_at is None
                    or time.monotonic() - recovered_at > self.max_backoff_seconds
                ):
                    failures = 0
                failures = self._wait_for_database(exc, failures + 1)
                recovered_at = time.monotonic()
                self.startup_delay = False
                self._fail_interrupted_task(exc)

    def _wait_for_database(self, error: Exception, failures: int) -> int:
        """Back off and probe until every connection the worker uses answers again.

        Returns the number of failures so far (the next backoff continues from it).
        """
        while True:
            _close_all_connections()
            delay = _backoff_seconds(failures, self.max_backoff_seconds)
            logger.warning(
                "worker.database_unavailable",
                worker_id=self.worker_id,
                attempt=failures,
                retry_in_seconds=round(delay, 2),
                error=str(error).strip().splitlines()[0] if str(error).strip() else repr(error),
            )
            # A SIGTERM/SIGINT during the wait ends the process (upstream's handler exits
            # when no task is running), so shutdown is never delayed by the backoff.
            time.sleep(delay)
            try:
                for alias in _worker_aliases():
                    with connections[alias].cursor() as cursor:
                        cursor.execute("SELECT 1")
            except CONNECTION_ERRORS as exc:
                error = exc
                failures += 1
                continue
            logger.info("worker.database_reconnected", worker_id=self.worker_id, attempts=failures)
            return failures

    def _fail_interrupted_task(self, error: Exception) -> None:
        interrupted, self._interrupted = self._interrupted, None
        if interrupted is None:
            return
        # Its outcome could not be recorded; say so instead of leaving it RUNNING.
        # (A video transcode is also re-queued by the watchdog from its own heartbeat.)
        try:
            interrupted.set_failed(error)
        except DatabaseError:
            logger.exception("worker.interrupted_task_unrecorded", task_id=str(interrupted.id))
            return
        logger.warning(
            "worker.interrupted_task_failed",
            worker_id=self.worker_id,
            task_id=str(interrupted.id),
            task=interrupted.task_path,
        )


def _backoff_seconds(failures: int, cap: float) -> float:
    """1, 2, 4 ... seconds up to ``cap``, with ±20 % jitter so workers spread out."""
    base = min(cap, FIRST_RETRY_SECONDS * 2 ** min(failures - 1, 30))
    return float(base * random.uniform(0.8, 1.2))  # jitter, not security


def _worker_aliases() -> list[str]:
    """The runtime connection (tasks' data) and the one holding the task rows."""
    task_alias = DBTaskResult.objects.db
    return list(dict.fromkeys([DEFAULT_DB_ALIAS, task_alias]))


def _close_all_connections() -> None:
    for connection in connections.all(initialized_only=True):
        # Closing a connection the server already dropped may itself raise.
        with suppress(DatabaseError):
            connection.close()


class Command(upstream.Command):
    help = (
        "Run the database task worker; survives database outages by reconnecting "
        "with capped exponential backoff (TASK_WORKER_RECONNECT_MAX_SECONDS)."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # Mirrors upstream's handle(), building our worker class instead of theirs.
        self.configure_logging(verbosity)
        if reload and batch:
            reload = False
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
            max_backoff_seconds=settings.TASK_WORKER_RECONNECT_MAX_SECONDS,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
