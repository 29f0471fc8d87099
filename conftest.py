"""Test database setup: a fresh PostgreSQL database per run, migrated as the
schema owner, used by the tests through the runtime role (RLS applies) and, inside
``platform_bypass`` and for task rows, the platform role (its own connection)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.browser",
    "tests.fixtures.schools",
    "tests.fixtures.csp_guard",
    "tests.fixtures.permissions",
    "tests.fixtures.edge",
    "tests.fixtures.dns",
    "tests.fixtures.cloudflare",
    "tests.fixtures.production",
]


def _require_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not (
        os.environ.get("DATABASE_OWNER_URL") and os.environ.get("DATABASE_PLATFORM_URL")
    ):
        pytest.exit(
            "The test suite runs on PostgreSQL with three roles: run `make test`, which sets "
            "DATABASE_URL (runtime role), DATABASE_OWNER_URL (schema owner) and "
            "DATABASE_PLATFORM_URL (platform role).",
            returncode=3,
        )


def _admin_url() -> str:
    return os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


# What the migrations put in the database, kept between transactional tests.
SEEDED_BY_MIGRATIONS = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "tenancy_plan",
}


def _empty_tables_after_transactional_test(self: object) -> None:
    """TransactionTestCase's teardown, for three roles.

    Django would ``flush`` every alias as its own role: the runtime role may not
    TRUNCATE (and must not), and a flush would also drop the plans the migrations
    seeded. Instead the superuser empties every table but those, with
    triggers off for the append-only audit log.
    """
    import psycopg
    from psycopg import sql

    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with (
        psycopg.connect(_admin_url().rsplit("/", 1)[0] + "/" + database, autocommit=True) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cur.fetchall() if name not in SEEDED_BY_MIGRATIONS]
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )


@pytest.fixture(scope="session", autouse=True)
def _tests_use_both_connections() -> None:
    # Any test may reach the platform connection, as the app does (platform_bypass,
    # task rows). In a non-transactional test it sees only committed rows, so a test
    # of platform-wide work on its own data is marked django_db(transaction=True).
    from django.test import TransactionTestCase

    TransactionTestCase.databases = {"default", "platform"}
    TransactionTestCase._fixture_teardown = _empty_tables_after_transactional_test  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment: None, django_db_blocker: pytest.FixtureRequest
) -> None:
    _require_postgres()
    from django.core.management import call_command
    from django.db import connections
    from pg_roles import provision

    for connection in connections.all():
        connection.close()
    provision(
        _admin_url(),
        os.environ["DATABASE_OWNER_URL"],
        os.environ["DATABASE_URL"],
        os.environ["DATABASE_PLATFORM_URL"],
        recreate=True,
    )
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        call_command("migrate", verbosity=0)
        for connection in connections.all():
            connection.close()


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate-limit counters and the host cache must not leak between tests.
    from django.core.cache import cache

    from courseplatform.ops import pagecache
    from courseplatform.tenancy import heard

    cache.clear()
    pagecache.clear()
    heard.clear_all()
