"""Create the PostgreSQL roles and database the platform expects.

Two login roles: the schema OWNER (runs migrations) and the RUNTIME role the
web processes and workers use. The runtime role is neither owner, superuser nor
BYPASSRLS, so FORCE ROW LEVEL SECURITY binds it. Run as a superuser URL:

    python scripts/pg_roles.py --admin-url postgres://postgres@127.0.0.1/postgres \
        --owner-url postgres://cp_owner:PW@127.0.0.1/courseplatform \
        --app-url postgres://cp_app:PW@127.0.0.1/courseplatform [--recreate]
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


def _ensure_role(cur: psycopg.Cursor, name: str, password: str | None) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cur.fetchone() else "CREATE"
    statement = sql.SQL(
        "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION"
    ).format(sql.SQL(verb), sql.Identifier(name))
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    cur.execute(statement)


def provision(admin_url: str, owner_url: str, app_url: str, *, recreate: bool = False) -> None:
    owner, owner_pw, database = _parts(owner_url)
    app, app_pw, app_db = _parts(app_url)
    if not owner or not app or owner == app:
        raise SystemExit("owner and runtime roles must be two different named roles")
    if database != app_db:
        raise SystemExit("owner and runtime URLs must name the same database")
    with psycopg.connect(admin_url, autocommit=True) as conn, conn.cursor() as cur:
        _ensure_role(cur, owner, owner_pw)
        _ensure_role(cur, app, app_pw)
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
        cur.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(app)
            )
        )
    db_admin_url = admin_url.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(db_admin_url, autocommit=True) as conn, conn.cursor() as cur:
        # Only the owner creates objects; the runtime role gets DML grants after migrate.
        cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--owner-url", default=os.environ.get("DATABASE_OWNER_URL"))
    parser.add_argument("--app-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    args = parser.parse_args()
    if not args.owner_url or not args.app_url:
        raise SystemExit("set DATABASE_URL and DATABASE_OWNER_URL (or pass the flags)")
    provision(args.admin_url, args.owner_url, args.app_url, recreate=args.recreate)
    print("PostgreSQL roles and database ready")


if __name__ == "__main__":
    main()
