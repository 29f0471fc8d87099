"""The task worker with three database roles: it claims task rows through the platform
role (the runtime role has no access to the task table) and runs each task, which
re-enters its school's context on the runtime connection."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django_tasks_db.models import DBTaskResult

from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    clip_dir_fixture,
    clip_path_fixture,
    local_media_fixture,
    upload,
)


# The worker is another connection (another process in production): committed rows.
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_queued_transcode_in_its_school(
    school_a: Any, school_b: Any, clip_path: Any, local_media: Path
) -> None:
    asset = upload(school_a.school, school_a.owner, clip_path("no_audio"))
    [job] = DBTaskResult.objects.filter(task_path__endswith="transcode_video")
    assert job.args_kwargs["args"] == [school_a.school.pk, asset.pk]
    with school_context(school_a.school):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT args_kwargs FROM django_tasks_database_dbtaskresult")

    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", stdout=io.StringIO()
    )

    job.refresh_from_db()
    assert job.status == "SUCCESSFUL", job.traceback
    assert job.return_value == "ready"
    with school_context(school_a.school):
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.READY
    with school_context(school_b.school):
        assert not VideoAsset.objects.exists()
