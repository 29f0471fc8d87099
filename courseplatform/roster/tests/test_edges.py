"""The less travelled paths of the import: the sample file, refusals of apply and
discard once applied, an uploader who lost the right to manage the school, an
unexpected error in one row, very long cells, an encrypted workbook, and the preview
page's statements at two sizes of file."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts.models import User
from courseplatform.courses.tests.test_student_views import client_as, new_user, text
from courseplatform.roster import parsing, services, tasks
from courseplatform.roster.parsing import ImportFileError, read_upload
from courseplatform.roster.tests.conftest import World, apply_all, make_import
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HEADER = ["name", "email", "courses"]


def test_sample_csv_is_a_valid_import_file(world: World) -> None:
    response = client_as(world.owner, world.school).get("/manage/students/import/sample.csv")
    assert response.status_code == 200
    kind, rows = read_upload(data=response.content, filename="sample.csv", max_rows=10)
    assert kind == "csv" and [r.email for r in rows][:1] == ["ada@example.com"]


def test_apply_and_discard_are_refused_once_applied(world: World) -> None:
    imp = make_import(world.school, world.owner, [HEADER, ["Kim", "kim@alpha.test", ""]])
    client = client_as(world.owner, world.school)
    base = f"/manage/students/import/{imp.pk}/"
    assert client.post(base + "apply/").status_code == 302
    again = client.post(base + "apply/", follow=True)
    assert "cannot be applied again" in text(again)
    refused = client.post(base + "discard/", follow=True)
    assert "Only an import that has not been applied" in text(refused)
    with school_context(world.school):
        imp.refresh_from_db()
        assert imp.status == "applying" and imp.rows.count() == 1


def test_nothing_to_apply_finishes_at_once(world: World) -> None:
    imp = make_import(world.school, world.owner, [HEADER, ["Ann", "ann@alpha.test", "drawing"]])
    assert imp.actionable_rows == 0
    with school_context(world.school):
        done = services.apply_import(school=world.school, actor=world.owner, student_import=imp)
    assert done.status == "done" and done.finished_at is not None


def test_rows_fail_when_the_uploader_can_no_longer_manage_the_school(world: World) -> None:
    teacher = new_user(world.school, "tia@alpha.test", name="Tia", role="instructor")
    imp = make_import(world.school, teacher, [HEADER, ["Lou", "lou@alpha.test", ""]])
    with school_context(world.school):
        services.apply_import(school=world.school, actor=teacher, student_import=imp)
        User.objects.filter(pk=teacher.pk).update(role="student")
    tasks.run_import_batch(school_id=world.school.pk, import_id=imp.pk)
    with school_context(world.school):
        row = imp.rows.get()
        assert not User.objects.filter(email="lou@alpha.test").exists()
    assert row.status == "failed" and "can no longer manage" in row.result


def test_an_unexpected_error_fails_one_row_and_the_rest_go_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tasks.create_invited_student

    def flaky(**kwargs: Any) -> User:
        if kwargs["address"] == "boom@alpha.test":
            raise RuntimeError("disk on fire")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "create_invited_student", flaky)
    rows = [HEADER, ["Boom", "boom@alpha.test", ""], ["Fine", "fine@alpha.test", ""]]
    imp = make_import(world.school, world.owner, rows)
    apply_all(world.school, world.owner, imp)
    with school_context(world.school):
        statuses = {row.email: (row.status, row.result) for row in imp.rows.all()}
    assert statuses["boom@alpha.test"] == ("failed", "Unexpected error: RuntimeError.")
    assert statuses["fine@alpha.test"][0] == "done"


def test_long_cells_are_row_problems_and_a_giant_cell_refuses_the_file(world: World) -> None:
    long_name = "N" * 121
    imp = make_import(
        world.school,
        world.owner,
        [HEADER, [long_name, "n@alpha.test", ""], ["Ok", "x" * 250 + "@alpha.test", ""]],
    )
    with school_context(world.school):
        codes = [[i["code"] for i in row.issues] for row in imp.rows.order_by("line")]
    assert codes == [["bad_name"], ["bad_email"]]
    giant = b"name,email\r\n" + b"A" * 200_000 + b",a@alpha.test\r\n"
    with pytest.raises(ImportFileError, match="malformed near line"):
        read_upload(data=giant, filename="g.csv", max_rows=10)


def test_encrypted_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in parsing.XLSX_REQUIRED:
            archive.writestr(name, "<x/>")
    data = bytearray(buffer.getvalue())
    # Set the "encrypted" bit in every central directory record (zipfile's writer
    # always clears it, and the check reads the directory).
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) != -1:
        data[at + 8] |= 0x1
        start = at + 4
    with pytest.raises(ImportFileError, match="encrypted"):
        read_upload(data=bytes(data), filename="locked.xlsx", max_rows=10)


def test_preview_page_statements_do_not_grow_with_the_file(world: World) -> None:
    client = client_as(world.owner, world.school)

    def statements(size: int) -> int:
        rows = [HEADER] + [[f"P{i}", f"p{size}-{i}@alpha.test", "drawing"] for i in range(size)]
        imp = make_import(world.school, world.owner, rows)
        url = f"/manage/students/import/{imp.pk}/"
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    assert statements(3) == statements(120)


def test_deactivated_account_is_a_row_problem(world: World) -> None:
    with school_context(world.school):
        User.objects.filter(pk=world.bob.pk).update(is_active=False)
    imp = make_import(world.school, world.owner, [HEADER, ["Bob", "bob@alpha.test", "drawing"]])
    with school_context(world.school):
        row = imp.rows.get()
    assert row.action == "invalid" and [i["code"] for i in row.issues] == ["inactive"]


def test_the_worker_task_is_wired_to_the_batch(world: World) -> None:
    """``apply_import_batch`` (what the worker runs) applies a batch like the tests'
    direct calls do."""
    imp = make_import(world.school, world.owner, [HEADER, ["Moe", "moe@alpha.test", "drawing"]])
    with school_context(world.school):
        services.apply_import(school=world.school, actor=world.owner, student_import=imp)
    outcome = tasks.apply_import_batch.call(world.school.pk, imp.pk)
    assert outcome == {"done": 1, "failed": 0, "waiting": 0}
    with school_context(world.school):
        imp.refresh_from_db()
    assert imp.status == "done"
