"""One log line and the task series for every background task, whatever the backend.

Django's task signals (sent by the worker around each run, and by the immediate
backend inside the enqueuing request) bind ``task_id``, ``task`` (its module path),
``queue``, the ``request_id``, ``school_id`` and ``user_id`` of the request that queued
it (``ops/taskqueue.py`` carries them in the task's row) and, for our tasks whose
first parameter is ``school_id``, that school to every log line the task writes; at
the end one ``task`` line gives the status, the run time and the SQL statements it
made, and ``courseplatform_tasks_total`` / ``courseplatform_task_duration_seconds``
count it. Enqueueing logs ``task.enqueued`` with the task id inside the request that
enqueued it (so its ``request_id``, ``school_id`` and ``user_id``): searching the logs
for a request id finds the request and every task it queued, each run included.
Whatever the task context bound is unbound after the run, so the request around an
immediate task keeps its own ids.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Mapping
from contextvars import Token
from dataclasses import dataclass
from functools import cache
from typing import Any

import structlog
from django.tasks.signals import task_enqueued, task_finished, task_started

from courseplatform.telemetry import metrics, queries

from .taskqueue import carried_context

log = structlog.get_logger("courseplatform.task")


@dataclass
class _Run:
    started: float
    bound: Mapping[str, Token[Any]]
    counter: list[int]
    counter_token: Token[list[int] | None]


_runs = threading.local()


@cache
def _takes_school_first(func: Any) -> bool:
    try:
        parameters = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return bool(parameters) and parameters[0] == "school_id"


def _ids(task_result: Any) -> dict[str, Any]:
    task = task_result.task
    # The ids of the request (or task) that queued it, carried in its row by our
    # backend (ops/taskqueue.py); the immediate backend runs inside that request, whose
    # ids are bound already.
    db_result = getattr(task_result, "db_result", None)
    ids = carried_context(getattr(db_result, "args_kwargs", None))
    ids.update(task_id=str(task_result.id), task=task.module_path, queue=task.queue_name)
    if _takes_school_first(task.func):
        args, kwargs = task_result.args, task_result.kwargs
        school_id = args[0] if args else kwargs.get("school_id")
        if isinstance(school_id, int):
            ids["school_id"] = school_id
    return ids


def on_enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
    task = task_result.task
    log.info(
        "task.enqueued", task_id=str(task_result.id), task=task.module_path, queue=task.queue_name
    )


def on_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    bound = structlog.contextvars.bind_contextvars(**_ids(task_result))
    counter, counter_token = queries.start()
    stack = getattr(_runs, "stack", None)
    if stack is None:
        stack = _runs.stack = []
    stack.append(_Run(time.perf_counter(), bound, counter, counter_token))


def on_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    stack = getattr(_runs, "stack", None)
    run = stack.pop() if stack else None
    task = task_result.task
    status = str(getattr(task_result.status, "value", task_result.status))
    fields: dict[str, Any] = {"status": status}
    if run is not None:
        seconds = time.perf_counter() - run.started
        queries.stop(run.counter_token)
        fields.update(duration_ms=round(seconds * 1000, 2), queries=run.counter[0])
        metrics.TASK_SECONDS.labels(task.module_path, task.queue_name).observe(seconds)
    metrics.TASKS.labels(task.module_path, task.queue_name, status).inc()
    if status == "FAILED":
        log.warning("task", **fields)
    else:
        log.info("task", **fields)
    if run is not None:
        structlog.contextvars.reset_contextvars(**run.bound)


def connect() -> None:
    task_enqueued.connect(on_enqueued, dispatch_uid="courseplatform.ops.tasklog.enqueued")
    task_started.connect(on_started, dispatch_uid="courseplatform.ops.tasklog.started")
    task_finished.connect(on_finished, dispatch_uid="courseplatform.ops.tasklog.finished")
