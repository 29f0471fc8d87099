"""The task backend: django-tasks-db's database queue, carrying the enqueuer's log ids.

A task queued inside a request (or inside another task) keeps that request's
``request_id``, ``school_id`` and ``user_id`` in its row, next to its arguments
(``args_kwargs["context"]``; upstream reads only ``args`` and ``kwargs`` from that
JSON), so ``ops/tasklog.py`` can bind them again when the worker runs it: the run's
log lines then say which request asked for it. It costs no write of its own: the ids
ride in the row the queue writes anyway. ``TASKS_BACKEND`` names this class by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend as UpstreamDatabaseBackend

from .middleware import REQUEST_ID_RE

if TYPE_CHECKING:
    from django.tasks import Task
    from django_tasks_db.models import DBTaskResult

CONTEXT_KEY = "context"
# What a request's (or task's) log context may hand on to the tasks it queues. The task's
# own ids (task_id, task, queue) are the run's, never inherited.
CARRIED = ("request_id", "school_id", "user_id")


def current_context() -> dict[str, Any]:
    """The carried ids bound to this request or task's log lines now."""
    bound = structlog.contextvars.get_contextvars()
    return {key: bound[key] for key in CARRIED if key in bound}


def carried_context(args_kwargs: Any) -> dict[str, Any]:
    """The ids a queued row carries, each checked (a row is data: trust nothing in it)."""
    context = args_kwargs.get(CONTEXT_KEY) if isinstance(args_kwargs, dict) else None
    if not isinstance(context, dict):
        return {}
    ids: dict[str, Any] = {}
    request_id = context.get("request_id")
    if isinstance(request_id, str) and REQUEST_ID_RE.match(request_id):
        ids["request_id"] = request_id
    for key in ("school_id", "user_id"):
        value = context.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            ids[key] = value
    return ids


class DatabaseBackend(UpstreamDatabaseBackend):
    """Upstream's backend; the row written at enqueue also holds ``current_context()``."""

    def _row(self, task: Task[Any, Any], args: Any, kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"args": args, "kwargs": kwargs}
        context = current_context()
        if context:
            payload[CONTEXT_KEY] = context
        return {
            "id": self._get_id(),
            "args_kwargs": normalize_json(payload),
            "priority": task.priority,
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "run_after": task.run_after,
            "backend_name": self.alias,
        }

    def _task_to_db_task(self, task: Task[Any, Any], args: Any, kwargs: Any) -> DBTaskResult:
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.create(**self._row(task, args, kwargs))

    async def _atask_to_db_task(self, task: Task[Any, Any], args: Any, kwargs: Any) -> DBTaskResult:
        from django_tasks_db.models import DBTaskResult

        return await DBTaskResult.objects.acreate(**self._row(task, args, kwargs))
