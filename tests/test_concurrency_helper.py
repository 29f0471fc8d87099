"""The concurrency helper itself: nobody starts before everyone is connected, every
worker runs as the school on its own connection, and a worker that cannot start
releases the others at once instead of at the deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections

from tests.fixtures.concurrency import DEADLINE_SECONDS, WorkersDidNotStart, run_together

WORKERS = 12
SCHOOL_ID = 424242  # only the RLS setting is read; no rows are needed


@pytest.fixture
def real_connections(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield
        connection.close()


def _backend() -> tuple[int, str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('app.school_id', true)")
        pid, school = cursor.fetchone()
    return pid, school


def test_run_together_starts_no_job_before_every_worker_is_connected(real_connections) -> None:
    connected_at: dict[int, float] = {}
    started_at: list[float] = []
    lock = threading.Lock()

    def on_connected(index: int) -> None:
        with lock:
            connected_at[index] = time.monotonic()

    def job() -> tuple[int, str]:
        with lock:
            started_at.append(time.monotonic())
        return _backend()

    outcomes = run_together(SCHOOL_ID, [job] * WORKERS, on_connected=on_connected)

    assert [o.error for o in outcomes] == [None] * WORKERS
    assert len(connected_at) == WORKERS and min(started_at) >= max(connected_at.values())
    pids = {o.value[0] for o in outcomes}
    assert len(pids) == WORKERS  # one connection each
    assert {o.value[1] for o in outcomes} == {str(SCHOOL_ID)}


def test_run_together_reports_a_job_error_as_its_outcome(real_connections) -> None:
    def fails() -> None:
        raise ValueError("job failed")

    outcomes = run_together(SCHOOL_ID, [fails, _backend])
    assert isinstance(outcomes[0].error, ValueError) and outcomes[1].error is None


def test_run_together_a_worker_that_cannot_start_releases_the_others_at_once(
    real_connections,
) -> None:
    ran: list[int] = []

    def on_connected(index: int) -> None:
        if index == WORKERS - 1:
            raise ConnectionError("could not connect")

    started = time.monotonic()
    with pytest.raises(WorkersDidNotStart, match="could not connect") as failure:
        run_together(SCHOOL_ID, [lambda: ran.append(1)] * WORKERS, on_connected=on_connected)
    assert f"{WORKERS} of {WORKERS} workers did not start" in str(failure.value)
    assert ran == []
    # Released by the failing worker, not by the deadline.
    assert time.monotonic() - started < DEADLINE_SECONDS / 2
