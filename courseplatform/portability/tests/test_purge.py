"""The purge of a closed school, on real PostgreSQL (three roles, RLS) and real S3.

Two full schools (``school_builder``); A is closed and purged. Every table with a school
key is read from the database catalog by a superuser connection (not through the code
under test, and not from a hand-kept list), as are the tables keyed only through one of
them; the bucket is listed directly. Nothing of A may remain, and B must be exactly as
it was: the same rows in every table, the same objects, the same unfinished upload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from courseplatform.ops.models import AuditLog
from courseplatform.portability import closure
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context
from tests.fixtures.schools import PASSWORD, host_of

from .school_builder import FullSchool, admin_connection, build_full_school, scalar

pytestmark = pytest.mark.django_db(transaction=True)

# Tables with a school key that the full-school builder does not fill, with why. A new
# tenant table fails test_purge_removes_every_row_and_object_of_the_school_only until
# the builder fills it (or it is listed here with its reason): the purge test must see
# rows of every kind go.
NOT_BUILT: dict[str, str] = {}


def catalog_school_tables() -> tuple[list[str], list[tuple[str, str, str]]]:
    """(tables with a school_id column, [(table, column, parent)] keyed to one of them)."""
    with admin_connection() as conn:
        direct = [
            name
            for (name,) in conn.execute(
                # The application's tables (the schema owner's), not another test's probes.
                "SELECT c.table_name FROM information_schema.columns c JOIN pg_tables t "
                "ON t.schemaname = c.table_schema AND t.tablename = c.table_name "
                "WHERE c.table_schema = 'public' AND c.column_name = 'school_id' "
                "AND t.tableowner = 'cp_owner' ORDER BY c.table_name"
            )
        ]
        keyed = conn.execute(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.contype = 'f' ORDER BY 1, 2"
        ).fetchall()
    indirect = [
        (table, column, parent)
        for table, column, parent in keyed
        if table not in direct and table != "tenancy_school" and parent in direct
    ]
    return direct, indirect


def snapshot(school_id: int) -> dict[str, int]:
    """Rows of ``school_id`` in every catalog table, read as the superuser."""
    direct, indirect = catalog_school_tables()
    counts: dict[str, int] = {}
    with admin_connection() as conn:
        for table in direct:
            counts[table] = scalar(
                conn, f'SELECT count(*) FROM "{table}" WHERE school_id = %s', [school_id]
            )
        for table, column, parent in indirect:
            counts[f"{table}.{column}"] = scalar(
                conn,
                f'SELECT count(*) FROM "{table}" t JOIN "{parent}" p ON p.id = t."{column}" '
                "WHERE p.school_id = %s",
                [school_id],
            )
        counts["tenancy_school"] = scalar(
            conn, "SELECT count(*) FROM tenancy_school WHERE id = %s", [school_id]
        )
        counts["django_tasks_database_dbtaskresult"] = scalar(
            conn,
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE args_kwargs -> 'args' -> 0 = to_jsonb(%s::bigint)",
            [school_id],
        )
    return counts


def stored(s3: Any, school_id: int) -> tuple[set[str], set[str]]:
    """(object keys, unfinished multipart upload keys) under ``schools/<id>/``."""
    client = s3.client()
    prefix = f"schools/{school_id}/"
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    uploads = client.list_multipart_uploads(Bucket=s3.bucket, Prefix=prefix)
    return keys, {upload["Key"] for upload in uploads.get("Uploads", [])}


def start_multipart(s3: Any, school_id: int) -> str:
    """An upload left unfinished under the school's prefix (a browser closed mid-video)."""
    client = s3.client()
    key = f"schools/{school_id}/videos/unfinished/source.mp4"
    upload = client.create_multipart_upload(Bucket=s3.bucket, Key=key)
    client.upload_part(
        Bucket=s3.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
    )
    return key


@pytest.fixture
def two_schools(
    make_school: Callable[..., Any], s3_server: Any, s3_default_storage: Any, settings: Any
) -> tuple[FullSchool, FullSchool]:
    settings.SCHOOL_DELETION_GRACE_DAYS = 0
    alpha = build_full_school(make_school, "alpha")
    bravo = build_full_school(make_school, "bravo")
    start_multipart(s3_server, alpha.school.pk)
    start_multipart(s3_server, bravo.school.pk)
    return alpha, bravo


def close(full: Any) -> None:
    with school_context(full.school):
        closure.request_closure(
            school=full.school, actor=full.owner, confirm_slug=full.school.slug, password=PASSWORD
        )


def purge_records(school_id: int) -> list[AuditLog]:
    with platform_bypass(actor=None, reason="test reads the platform log", audit=False):
        return list(AuditLog.objects.filter(school=None, action="school.purged", target_id=""))


def test_purge_removes_every_row_and_object_of_the_school_only(
    two_schools: tuple[FullSchool, FullSchool], s3_server: Any
) -> None:
    alpha, bravo = two_schools
    a, b = alpha.school.pk, bravo.school.pk
    before_a, before_b = snapshot(a), snapshot(b)
    objects_a, uploads_a = stored(s3_server, a)
    objects_b, uploads_b = stored(s3_server, b)
    # The builder filled every kind of row, so the purge is seen removing each kind.
    empty = sorted(t for t, n in before_a.items() if n == 0 and t not in NOT_BUILT)
    assert empty == [], f"the full-school builder leaves these empty: {empty}"
    assert before_b.keys() == before_a.keys()
    assert len(objects_a) >= 10 and uploads_a and objects_b and uploads_b

    close(alpha)
    call_command("purge_closed_schools", "--quiet")

    after_a, after_b = snapshot(a), snapshot(b)
    assert {t: n for t, n in after_a.items() if n} == {}
    # B: the closure and the purge wrote nothing of its own and took nothing.
    assert after_b == before_b
    assert stored(s3_server, a) == (set(), set())
    assert stored(s3_server, b) == (objects_b, uploads_b)
    with school_context(None):
        assert not School.objects.filter(pk=a).exists()
        assert School.objects.filter(pk=b).exists()
    # One platform-level record of the purge, naming the school and what went.
    [record] = [r for r in purge_records(a) if r.data.get("school_id") == a]
    assert record.school_id is None
    assert record.data["slug"] == "alpha"
    assert record.data["objects"] == len(objects_a)
    assert record.data["multipart_uploads"] == 1
    assert record.data["rows"]["courses_course"] == before_a["courses_course"]
    assert record.data["rows"]["ops_auditlog"] >= 1
    # Its host is gone: no cached school answers it.
    assert Client(HTTP_HOST=host_of(alpha.school)).get("/").status_code == 404
    assert Client(HTTP_HOST=host_of(bravo.school)).get("/").status_code == 200
    # Nothing left to do on the next run.
    assert closure.purge_school(school_id=a) is None


def test_a_purge_that_stops_half_way_is_finished_by_the_next_run(
    two_schools: tuple[FullSchool, FullSchool], s3_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, bravo = two_schools
    a, b = alpha.school.pk, bravo.school.pk
    before_b = snapshot(b)
    objects_b = stored(s3_server, b)
    close(alpha)

    # 1. It dies in the middle of the tenant rows: that transaction leaves nothing done.
    real_tables = closure.school_tables

    def tables_then_crash() -> closure.SchoolTables:
        tables = real_tables()
        return closure.SchoolTables(
            direct={**tables.direct, "no_such_table_crash": "school_id"},
            indirect=tables.indirect,
        )

    monkeypatch.setattr(closure, "school_tables", tables_then_crash)
    with pytest.raises(Exception, match="no_such_table_crash"):
        call_command("purge_closed_schools", "--quiet")
    half = snapshot(a)
    assert half["courses_course"] > 0 and half["accounts_user"] > 0
    assert stored(s3_server, a) == (set(), set())  # the objects went first
    monkeypatch.setattr(closure, "school_tables", real_tables)

    # 2. It dies after the tenant rows, before the school row.
    def crash(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("worker killed")

    real_row = closure._purge_school_row
    monkeypatch.setattr(closure, "_purge_school_row", crash)
    with pytest.raises(RuntimeError):
        call_command("purge_closed_schools", "--quiet")
    half = snapshot(a)
    assert half["courses_course"] == 0 and half["tenancy_school"] == 1
    assert half["ops_auditlog"] > 0
    monkeypatch.setattr(closure, "_purge_school_row", real_row)

    # 3. The next run finishes.
    call_command("purge_closed_schools", "--quiet")
    assert {t: n for t, n in snapshot(a).items() if n} == {}
    assert snapshot(b) == before_b
    assert stored(s3_server, b) == objects_b
    assert len([r for r in purge_records(a) if r.data.get("school_id") == a]) == 1


def test_the_audit_log_stays_append_only_outside_a_due_purge(
    school_a: Any, school_b: Any, settings: Any
) -> None:
    """The trigger's one exception is a school past its grace period, and only the
    platform role holds DELETE at all."""
    from django.db import DatabaseError, connection, transaction

    settings.SCHOOL_DELETION_GRACE_DAYS = 0
    alpha, bravo = school_a, school_b
    # Not closing: refused even to the platform role.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        platform_bypass(actor=None, reason="test", audit=False),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ops_auditlog WHERE school_id = %s", [alpha.school.pk])
    close(alpha)  # grace 0: due now
    # The runtime role, even in the school's own context, has no DELETE at all.
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        school_context(alpha.school),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ops_auditlog WHERE school_id = %s", [alpha.school.pk])
    # UPDATE stays refused for the due school too (no privilege, and the trigger).
    with (
        pytest.raises(DatabaseError, match=r"permission denied|append-only"),
        platform_bypass(actor=None, reason="test", audit=False),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE ops_auditlog SET action = 'x' WHERE school_id = %s", [alpha.school.pk]
        )
    # B's entries cannot go along with A's.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        platform_bypass(actor=None, reason="test", audit=False),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "DELETE FROM ops_auditlog WHERE school_id IN (%s, %s)",
            [alpha.school.pk, bravo.school.pk],
        )
