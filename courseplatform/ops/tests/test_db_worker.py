"""Our ``db_worker`` in this process: what upstream's options still do, and a task whose
outcome could not be recorded because its connection was cut (tests/test_serve.py runs
the worker as a real process under the supervisor)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from courseplatform.ops.management.commands.db_worker import _backoff_seconds
from tests.fixtures.tasks import cut_task_row_connection, write_marker


@pytest.fixture(autouse=True)
def _keep_signal_handlers() -> Iterator[None]:
    # The worker installs its own SIGINT/SIGTERM handlers; pytest's must come back.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _work(**options: object) -> None:
    call_command(
        "db_worker",
        queue_name="*",
        interval=0.1,
        startup_delay=False,
        reload=False,
        verbosity=0,
        **options,
    )


def test_backoff_doubles_from_one_second_up_to_the_cap_with_jitter() -> None:
    waits = [_backoff_seconds(failures, 8.0) for failures in (1, 2, 3, 4, 5, 40)]
    for wait, base in zip(waits, (1, 2, 4, 8, 8, 8), strict=True):
        assert base * 0.8 <= wait <= base * 1.2


@pytest.mark.django_db(transaction=True)
def test_batch_mode_runs_what_is_queued_and_returns(tmp_path: object) -> None:
    marker = tmp_path / "batch.txt"  # type: ignore[operator]
    result = write_marker.enqueue(str(marker), "batch")
    _work(batch=True)
    assert marker.read_text() == "batch"
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    # --reload with --batch is refused quietly, as upstream does: one pass, no reloader.
    call_command("db_worker", batch=True, reload=True, startup_delay=False, verbosity=0)


def test_excluded_queues_need_every_queue() -> None:
    with pytest.raises(CommandError, match="--exclude-queues"):
        call_command("db_worker", queue_name="default", exclude_queues="video", verbosity=0)


@pytest.mark.django_db(transaction=True)
@override_settings(TASK_WORKER_RECONNECT_MAX_SECONDS=1)
def test_a_task_whose_outcome_was_lost_with_the_connection_is_marked_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = cut_task_row_connection.enqueue()
    # Without the recovery loop the OperationalError would end the command here.
    _work(max_tasks=1)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert row.exception_class_path.endswith("OperationalError")
    assert "connection" in row.traceback
    events = [str(record.msg) for record in caplog.records]
    assert any("worker.database_unavailable" in event for event in events), events
    assert any("worker.interrupted_task_failed" in event for event in events), events
