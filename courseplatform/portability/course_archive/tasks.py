"""Course archive jobs in the task worker (default queue); each re-enters its school's
context (runtime role, row-level security) before touching anything."""

from __future__ import annotations

from django.db import transaction
from django.tasks import task

from . import jobs


def enqueue_export(*, school_id: int, export_id: int) -> None:
    transaction.on_commit(lambda: build_course_export.enqueue(school_id, export_id))


def enqueue_import(*, school_id: int, import_id: int) -> None:
    transaction.on_commit(lambda: import_course_archive.enqueue(school_id, import_id))


@task()
def build_course_export(school_id: int, export_id: int) -> str:
    return jobs.run_export(school_id=school_id, export_id=export_id)


@task()
def import_course_archive(school_id: int, import_id: int) -> str:
    return jobs.run_import(school_id=school_id, import_id=import_id)
