"""Back up the platform's PostgreSQL database, and restore a backup (README "Backups and restore").

    python scripts/db_backup.py dump --out /var/backups/courseplatform [--keep-days 7] \
        [--upload-url s3://backup-bucket/daily/]
    python scripts/db_backup.py restore /var/backups/courseplatform/<name>.dump [--drop-existing]
    python scripts/db_backup.py restore s3://backup-bucket/daily/<name>.dump
    python scripts/db_backup.py verify /var/backups/courseplatform/<name>.dump

**dump** runs ``pg_dump --format=custom`` as the schema owner (``DATABASE_OWNER_URL``) and
writes ``<database>-<UTC time>.dump`` plus ``.manifest.json`` beside it: every table's row
count and the database's security catalog (row-level security policies and flags,
triggers, functions, ownership and grants). Why the owner: every tenant table has
``FORCE ROW LEVEL SECURITY``, so a role bound by the policies sees only the rows of the
school in ``app.school_id`` (none, for a dump). pg_dump sets ``row_security = off``, which
makes such a dump fail rather than skip rows, unless ``--enable-row-security`` is given;
then it silently dumps what the policies show. This script refuses a role that lacks
``BYPASSRLS`` before pg_dump starts, never passes ``--enable-row-security``, and counts the
rows in the very snapshot pg_dump dumps (``pg_export_snapshot`` / ``--snapshot``) with
``row_security = off`` too, so the manifest's counts are the truth the dump must hold.

**restore** puts a dump into a fresh database, in this order: the three roles and the
empty database (``scripts/pg_roles.py``, through ``DATABASE_ADMIN_URL``), then
``pg_restore`` as the owner in one transaction (any error undoes everything), then the
checks of **verify**: every table's row count and the whole security catalog equal to
the manifest. Exit status 0 only when everything matches. It refuses a database that
already has tables unless ``--drop-existing``.

``--upload-url s3://bucket/prefix/`` copies the dump, then its manifest (so a manifest
in the bucket means its dump is complete), to a bucket of its own, with the
``BACKUP_S3_*`` credentials (``BACKUP_S3_ENDPOINT_URL`` for R2 or another S3 API):
keys apart from the media bucket's, ideally allowed to write and not to delete.
``restore`` takes such an ``s3://`` URL as well and downloads both files first.

psycopg and boto3 only (no Django), like ``scripts/pg_roles.py``: it runs on a machine
that has the PostgreSQL client tools and the project's virtualenv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql

FORMAT_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"


class BackupError(SystemExit):
    """A refusal or a failed step: message on stderr, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"db_backup: {message}")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client; scripts/install-system-deps.sh)"
        )
    return path


def _libpq_env(url: str) -> tuple[str, dict[str, str]]:
    """A URL without its password, and the environment that carries the password.

    pg_dump's command line is visible to every user of the machine (``ps``); the
    password goes in ``PGPASSWORD`` instead.
    """
    parsed = urlparse(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
        netloc = parsed.netloc.rsplit("@", 1)
        user = unquote(parsed.username or "")
        netloc[0] = user
        parsed = parsed._replace(netloc="@".join(netloc))
    return parsed.geturl(), env


def _database_name(url: str) -> str:
    return unquote(urlparse(url).path.lstrip("/"))


def _role_may_dump(cur: psycopg.Cursor[Any]) -> None:
    cur.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    row = cur.fetchone()
    assert row is not None
    user, superuser, bypass = row
    if not (superuser or bypass):
        raise BackupError(
            f"role {user!r} is bound by row-level security (no BYPASSRLS): a dump as it would "
            "hold only the rows its policies show. Run the backup as the schema owner "
            "(DATABASE_OWNER_URL)."
        )


def table_counts(cur: psycopg.Cursor[Any]) -> dict[str, int]:
    """Every table of the public schema and its exact row count."""
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    tables = [name for (name,) in cur.fetchall()]
    counts = {}
    for table in tables:
        cur.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table)))
        row = cur.fetchone()
        assert row is not None
        counts[table] = int(row[0])
    return counts


# The security catalog of the public schema: what must survive a restore exactly.
CATALOG_QUERIES: dict[str, str] = {
    "policies": """
        SELECT tablename, policyname, permissive, array_to_string(roles, ','), cmd,
               coalesce(qual, ''), coalesce(with_check, '')
        FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2""",
    "row_security": """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosecdef,
               pg_get_userbyid(p.proowner), coalesce(array_to_string(p.proconfig, ','), ''),
               md5(pg_get_functiondef(p.oid)), coalesce(array_to_string(p.proacl, ','), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' ORDER BY 1, 2""",
    "owners": """
        SELECT c.relname, c.relkind::text, pg_get_userbyid(c.relowner)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1""",
    "table_grants": """
        SELECT c.relname, pg_get_userbyid(a.grantee), a.privilege_type
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(c.relacl) a
        WHERE n.nspname = 'public' AND c.relacl IS NOT NULL ORDER BY 1, 2, 3""",
    "column_grants": """
        SELECT c.relname, att.attname, pg_get_userbyid(a.grantee), a.privilege_type
        FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a
        WHERE n.nspname = 'public' AND att.attacl IS NOT NULL ORDER BY 1, 2, 3, 4""",
    "schema": """
        SELECT pg_get_userbyid(nspowner), coalesce(array_to_string(nspacl, ','), '')
        FROM pg_namespace WHERE nspname = 'public'""",
}


def security_catalog(cur: psycopg.Cursor[Any]) -> dict[str, list[list[Any]]]:
    catalog = {}
    for name, query in CATALOG_QUERIES.items():
        cur.execute(query)
        catalog[name] = [list(row) for row in cur.fetchall()]
    return catalog


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump(url: str, out_dir: Path, *, keep_days: int | None = None) -> Path:
    """Dump the database at ``url`` into ``out_dir``; returns the dump's path."""
    pg_dump = _tool("pg_dump")
    out_dir.mkdir(parents=True, exist_ok=True)
    database = _database_name(url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = out_dir / f"{database}-{stamp}.dump"
    partial = target.with_suffix(".dump.partial")
    url_without_password, env = _libpq_env(url)
    started = time.monotonic()
    # The counting transaction exports its snapshot and stays open while pg_dump runs
    # in it: the counts and the dump see the same rows.
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        _role_may_dump(cur)
        # As pg_dump does: a table whose policies would filter rows raises an error
        # instead of answering fewer rows.
        cur.execute("SET LOCAL row_security = off")
        cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        row = cur.fetchone()
        assert row is not None
        snapshot, server_version = row
        counts = table_counts(cur)
        catalog = security_catalog(cur)
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--compress=6",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={partial}",
                f"--dbname={url_without_password}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed (exit {result.returncode}):\n{result.stderr}")
    partial.rename(target)
    version = subprocess.run(
        [pg_dump, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    manifest = {
        "format": FORMAT_VERSION,
        "database": database,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_version": server_version,
        "pg_dump": version,
        "dump_file": target.name,
        "dump_bytes": target.stat().st_size,
        "dump_sha256": _sha256(target),
        "seconds": round(time.monotonic() - started, 3),
        "row_counts": counts,
        "catalog": catalog,
    }
    manifest_path = Path(str(target) + MANIFEST_SUFFIX)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if keep_days is not None:
        prune(out_dir, database=database, keep_days=keep_days, keep=target)
    return target


def prune(out_dir: Path, *, database: str, keep_days: int, keep: Path) -> list[Path]:
    """Delete this database's dumps (and manifests) older than ``keep_days``; never ``keep``."""
    cutoff = time.time() - timedelta(days=keep_days).total_seconds()
    removed = []
    for path in sorted(out_dir.glob(f"{database}-*.dump")):
        if path == keep or path.stat().st_mtime >= cutoff:
            continue
        path.unlink()
        Path(str(path) + MANIFEST_SUFFIX).unlink(missing_ok=True)
        removed.append(path)
    return removed


def _bucket_client() -> Any:
    import boto3
    from botocore.config import Config

    key, secret = (
        os.environ.get("BACKUP_S3_ACCESS_KEY_ID"),
        os.environ.get("BACKUP_S3_SECRET_ACCESS_KEY"),
    )
    if not key or not secret:
        raise BackupError("set BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY")
    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("BACKUP_S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("BACKUP_S3_REGION", "auto"),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _split_s3_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise BackupError(f"not an s3://bucket/key URL: {url}")
    return parsed.netloc, parsed.path.lstrip("/")


def upload(dump_path: Path, url: str) -> list[str]:
    """Copy the dump and then its manifest under the ``s3://bucket/prefix/`` URL."""
    bucket, prefix = _split_s3_url(url)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    client = _bucket_client()
    keys = []
    for path in (dump_path, Path(str(dump_path) + MANIFEST_SUFFIX)):
        key = prefix + path.name
        client.upload_file(str(path), bucket, key)
        keys.append(f"s3://{bucket}/{key}")
    return keys


def download(url: str, directory: Path) -> Path:
    """Fetch ``s3://bucket/key.dump`` and its manifest into ``directory``."""
    bucket, key = _split_s3_url(url)
    client = _bucket_client()
    target = directory / key.rsplit("/", 1)[-1]
    for remote, local in (
        (key, target),
        (key + MANIFEST_SUFFIX, Path(str(target) + MANIFEST_SUFFIX)),
    ):
        client.download_file(bucket, remote, str(local))
    return target


def load_manifest(dump_path: Path) -> dict[str, Any]:
    manifest_path = Path(str(dump_path) + MANIFEST_SUFFIX)
    if not manifest_path.exists():
        raise BackupError(f"no manifest beside the dump: {manifest_path}")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown manifest format {manifest.get('format')!r}")
    return manifest


def differences(manifest: dict[str, Any], url: str) -> list[str]:
    """What the database at ``url`` holds differently from the manifest (empty: equal)."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        _role_may_dump(cur)
        cur.execute("SET row_security = off")
        counts = table_counts(cur)
        catalog = json.loads(json.dumps(security_catalog(cur), default=str))
    problems = []
    expected_counts: dict[str, int] = manifest["row_counts"]
    for table in sorted(set(expected_counts) | set(counts)):
        want, got = expected_counts.get(table), counts.get(table)
        if want != got:
            problems.append(f"rows of {table}: dumped {want}, restored {got}")
    for name, rows in manifest["catalog"].items():
        want_rows = {json.dumps(row) for row in rows}
        got_rows = {json.dumps(row) for row in catalog.get(name, [])}
        problems += [f"{name}: missing {row}" for row in sorted(want_rows - got_rows)]
        problems += [f"{name}: unexpected {row}" for row in sorted(got_rows - want_rows)]
    return problems


def _admin_url_for(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + database


def restore(
    dump_path: Path,
    *,
    admin_url: str,
    owner_url: str,
    app_url: str,
    platform_url: str,
    drop_existing: bool = False,
) -> list[str]:
    """Roles and database, pg_restore, checks; returns the differences (empty: restored)."""
    pg_restore = _tool("pg_restore")
    manifest = load_manifest(dump_path)
    if manifest["dump_sha256"] != _sha256(dump_path):
        raise BackupError(f"{dump_path} does not match its manifest's checksum (damaged?)")
    database = _database_name(owner_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    if exists and not drop_existing:
        with psycopg.connect(_admin_url_for(admin_url, database)) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        if row and row[0]:
            raise BackupError(
                f"database {database!r} already has {row[0]} tables; restore into a new "
                "database, or pass --drop-existing to replace it"
            )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pg_roles import provision

    # 1. The roles (grants in the dump name them) and an empty database owned by the owner.
    provision(admin_url, owner_url, app_url, platform_url, recreate=drop_existing)
    # 2. Schema, rows, then indexes, constraints, triggers, policies and grants, as the
    # owner (BYPASSRLS: the dump's `SET row_security = off` holds), all or nothing.
    url_without_password, env = _libpq_env(owner_url)
    result = subprocess.run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={url_without_password}",
            str(dump_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {result.returncode}):\n{result.stderr}")
    # 3. The checks.
    return differences(manifest, owner_url)


def _report(problems: list[str], what: str) -> int:
    if problems:
        print(f"db_backup: {what}: {len(problems)} differences", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"db_backup: {what}: row counts and security catalog match the manifest")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dump_cmd = commands.add_parser("dump", help="pg_dump --format=custom plus a manifest")
    dump_cmd.add_argument("--out", type=Path, required=True, help="directory for the files")
    dump_cmd.add_argument(
        "--keep-days", type=int, default=None, help="delete this database's older dumps"
    )
    dump_cmd.add_argument("--url", default=os.environ.get("DATABASE_OWNER_URL"))
    dump_cmd.add_argument(
        "--upload-url", help="s3://bucket/prefix/ to copy the dump and manifest to"
    )
    restore_cmd = commands.add_parser("restore", help="roles, pg_restore, checks")
    restore_cmd.add_argument("dump", help="a .dump file, or s3://bucket/key.dump")
    restore_cmd.add_argument("--drop-existing", action="store_true")
    restore_cmd.add_argument(
        "--admin-url",
        default=os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    restore_cmd.add_argument("--owner-url", default=os.environ.get("DATABASE_OWNER_URL"))
    restore_cmd.add_argument("--app-url", default=os.environ.get("DATABASE_URL"))
    restore_cmd.add_argument("--platform-url", default=os.environ.get("DATABASE_PLATFORM_URL"))
    verify_cmd = commands.add_parser("verify", help="compare a database with a dump's manifest")
    verify_cmd.add_argument("dump", type=Path)
    verify_cmd.add_argument("--url", default=os.environ.get("DATABASE_OWNER_URL"))
    args = parser.parse_args(argv)

    if args.command == "dump":
        if not args.url:
            raise BackupError("set DATABASE_OWNER_URL (or --url): the backup runs as the owner")
        path = dump(args.url, args.out, keep_days=args.keep_days)
        manifest = load_manifest(path)
        rows = sum(manifest["row_counts"].values())
        print(
            f"db_backup: wrote {path} ({manifest['dump_bytes']:,} bytes, "
            f"{len(manifest['row_counts'])} tables, {rows:,} rows) and its manifest"
        )
        if args.upload_url:
            for copied in upload(path, args.upload_url):
                print(f"db_backup: uploaded {copied}")
        return 0
    if args.command == "restore":
        if not (args.owner_url and args.app_url and args.platform_url):
            raise BackupError(
                "set DATABASE_OWNER_URL, DATABASE_URL and DATABASE_PLATFORM_URL of the target "
                "(or pass --owner-url, --app-url, --platform-url)"
            )
        with tempfile.TemporaryDirectory(prefix="db_backup-") as scratch:
            if args.dump.startswith("s3://"):
                dump_path = download(args.dump, Path(scratch))
            else:
                dump_path = Path(args.dump)
            problems = restore(
                dump_path,
                admin_url=args.admin_url,
                owner_url=args.owner_url,
                app_url=args.app_url,
                platform_url=args.platform_url,
                drop_existing=args.drop_existing,
            )
        return _report(problems, f"restored {dump_path.name} into {_database_name(args.owner_url)}")
    if not args.url:
        raise BackupError("set DATABASE_OWNER_URL (or --url)")
    return _report(differences(load_manifest(args.dump), args.url), f"verified {args.dump.name}")


if __name__ == "__main__":
    sys.exit(main())
