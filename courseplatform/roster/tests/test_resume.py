"""An import whose worker died mid-batch is resumed by ``resume_imports`` and finishes,
each row applied once; other schools' imports are left alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment
from courseplatform.roster import services, tasks
from courseplatform.roster.models import StudentImport, StudentImportRow
from courseplatform.roster.periodic import resume_stalled_imports
from courseplatform.roster.tests.conftest import World, make_import
from courseplatform.tenancy.rls import school_context

HEADER = ["name", "email", "courses"]


@pytest.mark.django_db(transaction=True)  # the scan runs as the platform role
def test_a_batch_left_applying_by_a_dead_worker_is_resumed_and_the_import_finishes(
    world: World, settings: Any, mailoutbox: list[Any], capsys: Any
) -> None:
    settings.ROSTER_IMPORT_BATCH_SIZE = 2
    rows = [
        HEADER,
        ["Cara New", "cara@alpha.test", "drawing; shading"],
        ["Bob Existing", "bob@alpha.test", "drawing"],
        ["Gus New", "gus@alpha.test", "shading"],
    ]
    imp = make_import(world.school, world.owner, rows)
    waiting_in_b = make_import(
        world.other_school, world.other_owner, [HEADER, ["Z", "z@b.test", ""]]
    )
    with school_context(world.school):
        services.apply_import(school=world.school, actor=world.owner, student_import=imp)
        # The worker took a batch and died before applying any of it.
        assert len(tasks._claim(imp, 2)) == 2

    now = timezone.now()
    assert resume_stalled_imports(now=now) == []  # a batch taken just now is working
    later = now + timedelta(minutes=settings.STALLED_BATCH_MINUTES + 1)
    enqueued: list[dict[str, Any]] = []
    original = tasks.enqueue_import_batch
    tasks.enqueue_import_batch = lambda **kw: enqueued.append(kw)  # type: ignore[assignment]
    try:
        assert resume_stalled_imports(now=later) == [(world.school.pk, imp.pk)]
    finally:
        tasks.enqueue_import_batch = original  # type: ignore[assignment]
    assert enqueued == [{"school_id": world.school.pk, "import_id": imp.pk}]

    for _ in range(10):
        if not tasks.run_import_batch(school_id=world.school.pk, import_id=imp.pk)["waiting"]:
            break
    with school_context(world.school):
        imp.refresh_from_db()
        assert imp.status == StudentImport.Status.DONE
        assert set(imp.rows.values_list("status", flat=True)) == {StudentImportRow.Status.DONE}
        cara = User.objects.get(school=world.school, email="cara@alpha.test")
        assert Enrollment.objects.filter(student=cara).count() == 2
        assert Enrollment.objects.filter(student=world.bob).count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == ["cara@alpha.test", "gus@alpha.test"]
    # School B's import (never applied) was not touched; nothing is left to resume.
    with school_context(world.other_school):
        waiting_in_b.refresh_from_db()
        assert waiting_in_b.status == StudentImport.Status.PREVIEW
    assert resume_stalled_imports(now=later) == []
    call_command("resume_imports", "--quiet")
    assert capsys.readouterr().out == ""
