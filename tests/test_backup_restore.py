"""The restore drill: the documented backup procedure (`scripts/db_backup.py`, README
"Backups and restore"), run for real and checked against the catalog.

Two schools get real content through the services (courses, a lesson, an access-code
batch and a redemption, a student's progress, a video row, the audit entries all of
that writes). The database is dumped with ``db_backup.py dump`` as the schema owner and
restored with ``db_backup.py restore`` into a fresh database (roles first, then
pg_restore, then its own checks). The test then checks the restored copy itself, with
its own queries rather than the script's: the rows of every table with a ``school_id``
column (found in the catalog), per school; every row-level security policy and flag;
the audit log's triggers (and that they still refuse an UPDATE); the SECURITY DEFINER
host lookup; every privilege of the runtime role; row-level security in force for the
runtime role; and the real app server (``scripts/serve.py web``, as production runs it)
serving a school's public page and a signed-in page from the restored database.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bench.web.targets import login
from tests.test_serve import STARTUP_TIMEOUT, STOP_TIMEOUT, _free_port, _tail, _wait_for

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "db_backup.py"
PASSWORD = "a-long-drill-passphrase-42"
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _admin_url(database: str) -> str:
    admin = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return admin.rsplit("/", 1)[0] + "/" + database


def _with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def _source_database() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[1]


def _run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO_ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _drop_database(name: str) -> None:
    with psycopg.connect(_admin_url("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def drill_database() -> Iterator[dict[str, str]]:
    """Name and role URLs of a database for the restored copy; dropped afterwards."""
    name = f"{_source_database()}_drill"
    _drop_database(name)
    urls = {
        "name": name,
        "DATABASE_URL": _with_database(os.environ["DATABASE_URL"], name),
        "DATABASE_OWNER_URL": _with_database(os.environ["DATABASE_OWNER_URL"], name),
        "DATABASE_PLATFORM_URL": _with_database(os.environ["DATABASE_PLATFORM_URL"], name),
    }
    try:
        yield urls
    finally:
        _drop_database(name)


def _build_school(slug: str) -> dict[str, Any]:
    """A school with content, every write through the product's services."""
    from courseplatform.access.services import create_batch, redeem_code
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import services as courses
    from courseplatform.courses.models import Lesson
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context
    from courseplatform.video.services import create_asset

    name = f"{slug.title()} Drill Academy"
    created = create_school(
        slug=slug,
        name=name,
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name=f"{slug.title()} Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = courses.create_course(
            school=school,
            actor=owner,
            title=f"{slug.title()} restored course",
            description_md="Everything a restored school needs.",
        )
        section = courses.add_section(school=school, actor=owner, course=course, title="Basics")
        lesson = courses.add_lesson(school=school, actor=owner, section=section, title="Welcome")
        courses.update_lesson(
            school=school,
            actor=owner,
            lesson=lesson,
            title="Welcome",
            kind=Lesson.Kind.TEXT,
            body_md=f"## Hello from {slug}\n\nThis lesson survived a restore.",
            is_preview=False,
            duration_minutes=5,
        )
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        batch = create_batch(
            school=school, actor=owner, name="Drill codes", course_ids=[course.pk], code_count=3
        )
        student = register_user(
            school=school, email=f"student@{slug}.test", password=PASSWORD, full_name="Sam Student"
        )
        redeem_code(school=school, student=student, raw_code=batch.codes[0])
        courses.set_lesson_completed(school=school, student=student, lesson=lesson)
        create_asset(
            school=school, actor=owner, filename="intro.mp4", size=4096, content_type="video/mp4"
        )
    return {
        "id": school.pk,
        "slug": slug,
        "name": name,
        "course": course.title,
        "lesson": lesson.pk,
        "student": student.email,
    }


def _tenant_tables(cur: psycopg.Cursor[Any]) -> list[str]:
    cur.execute(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND c.relkind = 'r' AND a.attname = 'school_id' AND NOT a.attisdropped ORDER BY 1"
    )
    return [name for (name,) in cur.fetchall()]


def _rows_per_school(database: str) -> dict[str, dict[int | None, int]]:
    with psycopg.connect(_admin_url(database)) as conn, conn.cursor() as cur:
        counts = {}
        for table in _tenant_tables(cur):
            cur.execute(
                sql.SQL("SELECT school_id, count(*) FROM {} GROUP BY 1").format(
                    sql.Identifier(table)
                )
            )
            counts[table] = dict(cur.fetchall())
        return counts


CATALOG = {
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check "
    "FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2",
    "force_rls": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
    "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
    "WHERE NOT tgisinternal ORDER BY 1, 2",
    "functions": "SELECT proname, prosecdef, pg_get_userbyid(proowner), proconfig::text, prosrc "
    "FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
}


def _catalog(database: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(_admin_url(database)) as conn, conn.cursor() as cur:
        found = {}
        for name, query in CATALOG.items():
            cur.execute(query)
            found[name] = cur.fetchall()
        return found


def _runtime_privileges(database: str) -> dict[tuple[str, str], bool]:
    """has_table_privilege of the runtime role on every table, plus its column grants."""
    role = os.environ["DATABASE_URL"].split("://", 1)[1].split("@", 1)[0].split(":")[0]
    with psycopg.connect(_admin_url(database)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r' ORDER BY 1"
        )
        tables = [name for (name,) in cur.fetchall()]
        cur.execute(
            "SELECT relname, has_sequence_privilege(%s, oid, 'USAGE') FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'",
            [role],
        )
        found = {(name, "USAGE"): ok for name, ok in cur.fetchall()}
        for table in tables:
            for privilege in PRIVILEGES:
                cur.execute(
                    "SELECT has_table_privilege(%s, %s, %s)",
                    [role, f'public."{table}"', privilege],
                )
                found[(table, privilege)] = bool(cur.fetchone()[0])  # type: ignore[index]
        cur.execute(
            "SELECT attname, has_column_privilege(%s, 'public.tenancy_school', attname, 'UPDATE') "
            "FROM pg_attribute WHERE attrelid = 'public.tenancy_school'::regclass AND attnum > 0 "
            "AND NOT attisdropped",
            [role],
        )
        found |= {("tenancy_school." + col, "UPDATE"): ok for col, ok in cur.fetchall()}
        cur.execute(
            "SELECT has_function_privilege(%s, 'public.domains_lookup_hostname(text)', 'EXECUTE')",
            [role],
        )
        found[("domains_lookup_hostname", "EXECUTE")] = bool(cur.fetchone()[0])  # type: ignore[index]
        return found


def _get(port: int, host: str, path: str, cookie: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": host}
    if cookie:
        headers["Cookie"] = cookie
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _serve_and_check(urls: dict[str, str], schools: list[dict[str, Any]], log: Path) -> None:
    """``scripts/serve.py web`` on the restored database: pages of both schools."""
    from django.conf import settings

    port = _free_port()
    env = dict(os.environ)
    env.pop("DATABASE_OWNER_URL", None)  # production web processes never hold it
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        {
            "DATABASE_URL": urls["DATABASE_URL"],
            "DATABASE_PLATFORM_URL": urls["DATABASE_PLATFORM_URL"],
            # A cache namespace of its own: nothing the test process cached can answer.
            "CACHE_KEY_PREFIX": urls["name"],
            "PORT": str(port),
            "WEB_HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "2",
            "PLATFORM_DOMAIN": "localhost",
            "DEBUG": "false",
            "SERVE_STOP_SECONDS": "40",
            "PYTHONUNBUFFERED": "1",
        }
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/serve.py", "web"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                return True
            try:
                return _get(port, "localhost", "/healthz")[0] == 200
            except OSError:
                return False

        _wait_for("the restored app to answer /healthz", healthy, log, STARTUP_TIMEOUT)
        assert process.poll() is None, f"serve.py exited: {process.returncode}\n{_tail(log)}"
        for school in schools:
            host = f"{school['slug']}.localhost:{port}"
            status, page = _get(port, host, "/courses/")
            assert status == 200, f"{host}/courses/ answered {status}\n{_tail(log)}"
            assert school["course"] in page
            other = next(s for s in schools if s is not school)
            assert other["course"] not in page
            session = login(
                port=port,
                host=host,
                email=school["student"],
                password=PASSWORD,
                cookie_name=settings.SESSION_COOKIE_NAME,
            )
            cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
            status, page = _get(port, host, "/my/", cookie)
            assert status == 200, f"{host}/my/ answered {status}"
            assert school["course"] in page  # the enrolment the code redemption made
            assert "Sam Student" in page or school["student"] in page
        # The web process's connections are to the restored database.
        with psycopg.connect(_admin_url("postgres")) as conn:
            rows = conn.execute(
                "SELECT DISTINCT datname FROM pg_stat_activity "
                "WHERE application_name = 'courseplatform-web' AND datname LIKE %s",
                [_source_database() + "%"],
            ).fetchall()
        assert (urls["name"],) in rows
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.django_db(transaction=True)
def test_restore_drill_dump_restore_and_serve(
    drill_database: dict[str, str], tmp_path: Path
) -> None:
    schools = [_build_school("drill-alpha"), _build_school("drill-bravo")]
    source = _source_database()
    before = _rows_per_school(source)
    # Real content in both schools, in the tables the drill is about.
    for table in (
        "courses_course",
        "courses_lesson",
        "courses_enrollment",
        "courses_lessonprogress",
        "access_accesscode",
        "access_redemption",
        "video_videoasset",
        "ops_auditlog",
        "accounts_user",
    ):
        for school in schools:
            assert before[table].get(school["id"], 0) > 0, f"{table}: no rows of {school}"

    # 1. The documented backup, as the owner.
    dumped = _run_script("dump", "--out", str(tmp_path / "backups"))
    assert dumped.returncode == 0, dumped.stderr
    (dump_file,) = (tmp_path / "backups").glob("*.dump")
    manifest = json.loads(Path(str(dump_file) + ".manifest.json").read_text())
    for table, per_school in before.items():
        assert manifest["row_counts"][table] == sum(per_school.values()), table

    # 2. The documented restore: roles, pg_restore, the script's own checks.
    env = dict(os.environ)
    env.update({key: value for key, value in drill_database.items() if key != "name"})
    restored = _run_script("restore", str(dump_file), env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "match the manifest" in restored.stdout

    # 3. Checked independently of the script: every tenant table, per school.
    name = drill_database["name"]
    after = _rows_per_school(name)
    assert sorted(after) == sorted(before)
    assert after == before
    source_catalog, restored_catalog = _catalog(source), _catalog(name)
    for part in CATALOG:
        assert restored_catalog[part] == source_catalog[part], part
    tenant_tables = set(before)
    assert len(tenant_tables) > 30  # found in the catalog, not a hand-written list
    policed = {row[0] for row in restored_catalog["policies"]}
    assert tenant_tables <= policed, f"tenant tables without a policy: {tenant_tables - policed}"
    forced = {table for table, _on, force in restored_catalog["force_rls"] if force}
    assert tenant_tables <= forced, f"tenant tables without FORCE RLS: {tenant_tables - forced}"
    assert {row[1] for row in restored_catalog["triggers"] if row[0] == "ops_auditlog"} == {
        "ops_auditlog_append_only",
        "ops_auditlog_no_truncate",
    }
    assert ("domains_lookup_hostname", True) in {
        (row[0], row[1]) for row in restored_catalog["functions"]
    }
    assert _runtime_privileges(name) == _runtime_privileges(source)
    # The audit trigger still works: even the superuser cannot rewrite history.
    with (
        psycopg.connect(_admin_url(name)) as conn,
        pytest.raises(psycopg.Error, match="append-only"),
    ):
        conn.execute("UPDATE ops_auditlog SET action = 'rewritten'")

    # 4. Row-level security in force on the copy, for the runtime role.
    alpha, bravo = schools
    with psycopg.connect(drill_database["DATABASE_URL"], autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM courses_course").fetchone() == (0,)
        conn.execute("SELECT set_config('app.school_id', %s, false)", [str(alpha["id"])])
        seen = conn.execute("SELECT DISTINCT school_id FROM courses_enrollment").fetchall()
        assert seen == [(alpha["id"],)]
        assert conn.execute(
            "SELECT count(*) FROM access_accesscode WHERE school_id = %s", [bravo["id"]]
        ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO courses_section (school_id, course_id, title, position, release) "
                "SELECT %s, id, 'x', 9, 'immediately' FROM courses_course LIMIT 1",
                [bravo["id"]],
            )

    # 5. The app serves from the restored copy.
    _serve_and_check(drill_database, schools, tmp_path / "serve.log")


@pytest.mark.django_db(transaction=True)
def test_verify_reports_a_missing_row_and_a_dropped_policy(
    drill_database: dict[str, str], tmp_path: Path
) -> None:
    _build_school("drill-charlie")
    assert _run_script("dump", "--out", str(tmp_path)).returncode == 0
    (dump_file,) = tmp_path.glob("*.dump")
    env = dict(os.environ)
    env.update({key: value for key, value in drill_database.items() if key != "name"})
    assert _run_script("restore", str(dump_file), env=env).returncode == 0
    with psycopg.connect(_admin_url(drill_database["name"]), autocommit=True) as conn:
        conn.execute("DELETE FROM courses_lessonprogress")
        conn.execute("DROP POLICY school_isolation ON courses_course")
    checked = _run_script("verify", str(dump_file), "--url", drill_database["DATABASE_OWNER_URL"])
    assert checked.returncode == 1
    assert "rows of courses_lessonprogress: dumped 1, restored 0" in checked.stderr
    assert "policies: missing" in checked.stderr and "courses_course" in checked.stderr
    # A second restore into the same database is refused unless asked to replace it.
    again = _run_script("restore", str(dump_file), env=env)
    assert again.returncode == 1 and "already has" in again.stderr
    replaced = _run_script("restore", str(dump_file), "--drop-existing", env=env)
    assert replaced.returncode == 0, replaced.stderr


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_dump(drill_database: dict[str, str], tmp_path: Path) -> None:
    assert _run_script("dump", "--out", str(tmp_path)).returncode == 0
    (dump_file,) = tmp_path.glob("*.dump")
    with dump_file.open("r+b") as handle:
        handle.seek(-10, os.SEEK_END)
        handle.write(b"0123456789")
    env = dict(os.environ)
    env.update({key: value for key, value in drill_database.items() if key != "name"})
    result = _run_script("restore", str(dump_file), env=env)
    assert result.returncode == 1
    assert "does not match its manifest's checksum" in result.stderr
    with psycopg.connect(_admin_url("postgres")) as conn:
        assert not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [drill_database["name"]]
        ).fetchone()


def test_dump_refuses_a_role_bound_by_row_level_security(
    django_db_setup: None, tmp_path: Path
) -> None:
    # The runtime role sees no tenant row outside a school: its dump would be empty.
    result = _run_script("dump", "--out", str(tmp_path), "--url", os.environ["DATABASE_URL"])
    assert result.returncode == 1
    assert "bound by row-level security" in result.stderr
    assert not list(tmp_path.iterdir())


def test_dump_fails_loudly_without_pg_dump(django_db_setup: None, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # a PATH with no PostgreSQL tools on it
    result = _run_script("dump", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 1
    assert "pg_dump not found on PATH" in result.stderr


def test_dump_prunes_only_this_databases_old_dumps(django_db_setup: None, tmp_path: Path) -> None:
    old = tmp_path / f"{_source_database()}-20200101T000000Z.dump"
    foreign = tmp_path / "otherdb-20200101T000000Z.dump"
    for path in (old, foreign):
        path.write_bytes(b"x")
        Path(str(path) + ".manifest.json").write_text("{}")
        os.utime(path, (0, 0))
    result = _run_script("dump", "--out", str(tmp_path), "--keep-days", "30")
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in tmp_path.glob("*.dump"))
    assert foreign.name in names and old.name not in names and len(names) == 2
    assert not Path(str(old) + ".manifest.json").exists()


@pytest.mark.django_db(transaction=True)
def test_dump_uploads_to_a_bucket_and_restores_from_it(
    drill_database: dict[str, str], tmp_path: Path, s3_server: Any
) -> None:
    import boto3
    from botocore.config import Config

    school = _build_school("drill-delta")
    bucket_env = {
        "BACKUP_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "BACKUP_S3_ACCESS_KEY_ID": s3_server.access_key,
        "BACKUP_S3_SECRET_ACCESS_KEY": s3_server.secret_key,
        "BACKUP_S3_REGION": s3_server.region,
    }
    prefix = f"db-backups/{tmp_path.name}/"
    upload_url = f"s3://{s3_server.bucket}/{prefix}"
    # Without the backup bucket's keys nothing is uploaded, and the run fails.
    refused = _run_script("dump", "--out", str(tmp_path / "a"), "--upload-url", upload_url)
    assert refused.returncode == 1 and "BACKUP_S3_ACCESS_KEY_ID" in refused.stderr

    env = dict(os.environ, **bucket_env)
    dumped = _run_script("dump", "--out", str(tmp_path / "b"), "--upload-url", upload_url, env=env)
    assert dumped.returncode == 0, dumped.stderr
    (dump_file,) = (tmp_path / "b").glob("*.dump")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        region_name=s3_server.region,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    listed = client.list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix)["Contents"]
    assert {item["Key"]: item["Size"] for item in listed} == {
        prefix + dump_file.name: dump_file.stat().st_size,
        prefix + dump_file.name + ".manifest.json": Path(str(dump_file) + ".manifest.json")
        .stat()
        .st_size,
    }
    # The machine's copies are gone: the restore works from the bucket alone.
    for path in (tmp_path / "b").iterdir():
        path.unlink()
    env.update({key: value for key, value in drill_database.items() if key != "name"})
    restored = _run_script("restore", upload_url + dump_file.name, env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    with psycopg.connect(_admin_url(drill_database["name"])) as conn:
        titles = conn.execute(
            "SELECT title FROM courses_course WHERE school_id = %s", [school["id"]]
        ).fetchall()
    assert titles == [(school["course"],)]
