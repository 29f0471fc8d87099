"""The whole-school export in the task worker (``manage.py db_worker``)."""

from __future__ import annotations

from django.tasks import task

from . import jobs


@task()
def build_school_export(school_id: int, export_id: int) -> str:
    return jobs.run_export(school_id=school_id, export_id=export_id)
