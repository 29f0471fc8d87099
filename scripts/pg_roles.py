"""Create the PostgreSQL roles and database the platform expects.

Three login roles, none superuser:
- OWNER (DATABASE_OWNER_URL) owns the schema and runs migrations. It has BYPASSRLS:
  as the tables' owner it could switch their row-level security off anyway, and
  data migrations must see every school's rows.
- RUNTIME (DATABASE_URL), used by the web processes and workers: neither owner nor
  BYPASSRLS, so the policies bind it, and no policy has a way around them.
- PLATFORM (DATABASE_PLATFORM_URL): BYPASSRLS, for platform-wide work entered only
  through tenancy.rls.platform_bypass (audited) and for the task queue's rows.
Table privileges are granted by `manage.py migrate` (tenancy/grants.py). Run as a
superuser URL:

    python scripts/pg_roles.py --admin-url postgres://postgres@127.0.0.1/postgres \
        --owner-url postgres://cp_owner:PW@127.0.0.1/courseplatform \
        --app-url postgres://cp_app:PW@127.0.0.1/courseplatform \
        --platform-url postgres://cp_platform:PW@127.0.0.1/courseplatform [--recreate]
"""

from __future__ import annotations

import argparse
import os
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql


def _parts(url: str) -> tuple[str, str | None, str]:
    parsed = urlparse(url)
    return (
        unquote(parsed.username or ""),
        (unquote(parsed.password) if parsed.password else None),
        parsed.path.lstrip("/"),
    )


def _ensure_role(cur: psycopg.Cursor, name: str, password: str | None, *, bypass_rls: bool) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cur.fetchone() else "CREATE"
    statement = sql.SQL(
        "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {} NOREPLICATION"
    ).format(
        sql.SQL(verb),
        sql.Identifier(name),
        sql.SQL("BYPASSRLS" if bypass_rls else "NOBYPASSRLS"),
    )
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    cur.execute(statement)


def provision(
    admin_url: str, owner_url: str, app_url: str, platform_url: str, *, recreate: bool = False
) -> None:
    owner, owner_pw, database = _parts(owner_url)
    app, app_pw, app_db = _parts(app_url)
    platform, platform_pw, platform_db = _parts(platform_url)
    if not owner or not app or not platform or len({owner, app, platform}) != 3:
        raise SystemExit("owner, runtime and platform roles must be three different named roles")
    if not database or database != app_db or database != platform_db:
        raise SystemExit("owner, runtime and platform URLs must name the same database")
    with psycopg.connect(admin_url, autocommit=True) as conn, conn.cursor() as cur:
        _ensure_role(cur, owner, owner_pw, bypass_rls=True)
        _ensure_role(cur, app, app_pw, bypass_rls=False)
        _ensure_role(cur, platform, platform_pw, bypass_rls=True)
        if recreate:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if not cur.fetchone():
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
        for role in (app, platform):
            cur.execute(
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )
    db_admin_url = admin_url.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(db_admin_url, autocommit=True) as conn, conn.cursor() as cur:
        # Only the owner creates objects; the other roles get DML grants after migrate.
        cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for role in (app, platform):
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--owner-url", default=os.environ.get("DATABASE_OWNER_URL"))
    parser.add_argument("--app-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--platform-url", default=os.environ.get("DATABASE_PLATFORM_URL"))
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    args = parser.parse_args()
    if not args.owner_url or not args.app_url or not args.platform_url:
        raise SystemExit(
            "set DATABASE_URL, DATABASE_OWNER_URL and DATABASE_PLATFORM_URL (or pass the flags)"
        )
    provision(
        args.admin_url, args.owner_url, args.app_url, args.platform_url, recreate=args.recreate
    )
    print("PostgreSQL roles and database ready")


if __name__ == "__main__":
    main()
