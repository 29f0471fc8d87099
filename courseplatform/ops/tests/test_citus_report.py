"""``manage.py citus_report``: the report in deploy/SCALING.md is current, and what it
says agrees with the catalog (checked with queries of the test's own, and on probe
tables whose blockers are known)."""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from courseplatform.ops import citus

SCALING = Path(__file__).resolve().parents[3] / "deploy" / "SCALING.md"


@pytest.mark.django_db
def test_citus_report_in_scaling_md_matches_the_live_schema() -> None:
    out = StringIO()
    call_command("citus_report", "--check", str(SCALING), stdout=out)
    assert "matches the schema" in out.getvalue()


@pytest.mark.django_db
def test_citus_report_check_fails_on_a_stale_copy(tmp_path: Path) -> None:
    stale = tmp_path / "SCALING.md"
    stale.write_text(
        SCALING.read_text().replace("| `courses_lesson` |", "| `courses_lesson_renamed` |")
    )
    with pytest.raises(CommandError, match="stale; regenerate it"):
        call_command("citus_report", "--check", str(stale))
    call_command("citus_report", "--write", str(stale), stdout=StringIO())
    assert stale.read_text() == SCALING.read_text()
    no_markers = tmp_path / "plain.md"
    no_markers.write_text("# nothing here\n")
    with pytest.raises(CommandError, match="no report markers"):
        call_command("citus_report", "--check", str(no_markers))


@pytest.mark.django_db
def test_citus_report_agrees_with_the_catalog() -> None:
    with connection.cursor() as cursor:
        tables = citus.inspect(cursor)
        cursor.execute(
            "SELECT c.relname, a.attnotnull FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind = 'r' AND a.attname = 'school_id' AND NOT a.attisdropped"
        )
        with_school = dict(cursor.fetchall())
        # Primary keys and unique constraints, and whether school_id is one of their columns.
        cursor.execute(
            "SELECT c.relname, i.indisprimary, ic.relname, EXISTS (SELECT 1 FROM pg_attribute a "
            "  WHERE a.attrelid = c.oid AND a.attname = 'school_id' "
            "  AND a.attnum = ANY (i.indkey::int2[])) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_class ic ON ic.oid = i.indexrelid "
            "WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique"
        )
        unique_indexes = cursor.fetchall()
    assert {name for name, t in tables.items() if t.kind == citus.DISTRIBUTED} == set(with_school)
    assert len(with_school) > 30
    for name, not_null in with_school.items():
        assert tables[name].school_not_null is not_null
        assert any(b.kind == "nullable" for b in tables[name].blockers) is (not not_null)
    # accounts_user and the audit log keep platform rows with a NULL school.
    assert not tables["accounts_user"].school_not_null
    assert not tables["ops_auditlog"].school_not_null
    for table, primary, index, has_school in unique_indexes:
        if table not in with_school:
            continue
        if primary:
            pk = tables[table].primary_key
            assert pk is not None and pk.has_school is has_school, table
        else:
            # Every unique index is reported, under its constraint's name when it backs one.
            reported = {key.name: key for key in tables[table].keys}
            assert index in reported, (table, index)
            assert reported[index].has_school is has_school, (table, index)
    # Today every primary key is (id) alone: each of them blocks.
    assert all(
        t.primary_key is not None and not t.primary_key.has_school
        for t in tables.values()
        if t.kind == citus.DISTRIBUTED
    )
    lesson_fks = {fk.describe() for fk in tables["courses_lesson"].foreign_keys}
    assert "(section_id) → `courses_section` (id)" in lesson_fks
    assert any(
        b.kind == "foreign_key" and b.text == "(section_id) → `courses_section` (id)"
        for b in tables["courses_lesson"].blockers
    )
    # Through-the-user tables carry no school_id; plans and schools are reference tables.
    assert tables["accounts_user_groups"].kind == citus.UNKEYED
    assert tables["tenancy_plan"].kind == tables["tenancy_school"].kind == citus.REFERENCE
    assert tables["django_session"].kind == citus.LOCAL


def test_citus_report_on_probe_tables(django_db_setup: None) -> None:
    """Tables made for the test (as the owner, rolled back): one with every blocker, one
    that Citus could distribute as it is."""
    with psycopg.connect(os.environ["DATABASE_OWNER_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE zz_probe_ready (school_id bigint NOT NULL REFERENCES tenancy_school, "
            "id bigint NOT NULL, code text NOT NULL, parent_id bigint, "
            "PRIMARY KEY (school_id, id), UNIQUE (school_id, code), "
            "FOREIGN KEY (school_id, parent_id) REFERENCES zz_probe_ready (school_id, id))"
        )
        cur.execute(
            "CREATE TABLE zz_probe_blocked (id bigint PRIMARY KEY, school_id bigint, "
            "code text UNIQUE, lesson_id bigint REFERENCES courses_lesson (id), "
            "ready_id bigint, ready_school bigint, "
            "FOREIGN KEY (ready_school, ready_id) REFERENCES zz_probe_ready (school_id, id))"
        )
        cur.execute("CREATE UNIQUE INDEX zz_probe_lower_code ON zz_probe_blocked (lower(code))")
        cur.execute(
            "CREATE UNIQUE INDEX zz_probe_pipe ON zz_probe_ready (school_id, code) "
            "WHERE (code || 'x') <> 'yx'"
        )
        cur.execute(
            "CREATE TABLE zz_probe_local (id bigint PRIMARY KEY, "
            "blocked_id bigint REFERENCES zz_probe_blocked (id))"
        )
        tables = citus.inspect(cur)
        report = citus.render(tables)
        conn.rollback()
    ready, blocked, local = (
        tables["zz_probe_ready"],
        tables["zz_probe_blocked"],
        tables["zz_probe_local"],
    )
    assert ready.kind == blocked.kind == citus.DISTRIBUTED
    assert ready.blockers == []
    kinds = sorted(b.kind for b in blocked.blockers)
    # NULL school_id; pk (id); unique (code); unique index lower(code); FK to a lesson by id;
    # FK (ready_school, ready_id) maps school_id to another column.
    assert kinds == ["foreign_key", "foreign_key", "key", "key", "key", "nullable"]
    texts = [b.text for b in blocked.blockers]
    assert "primary key `zz_probe_blocked_pkey` (id)" in texts
    assert "unique `zz_probe_blocked_code_key` (code)" in texts
    assert "unique index `zz_probe_lower_code` (on an expression)" in texts
    assert "(lesson_id) → `courses_lesson` (id)" in texts
    assert local.kind == citus.LOCAL
    assert [b.kind for b in local.blockers] == ["across"]
    ready_row = (
        "| `zz_probe_ready` | ✅ | ✅ (school_id, id) | ✅ `zz_probe_ready_school_id_code_key`"
    )
    assert ready_row in report
    assert "| `zz_probe_blocked` | ❌ | ❌ (id) |" in report
    # A "|" in a WHERE clause is escaped, so the row keeps its five cells.
    (row,) = [line for line in report.splitlines() if line.startswith("| `zz_probe_ready`")]
    assert "\\|\\|" in row
    assert len(row.replace("\\|", "").split("|")) == 7
