"""Test database setup: a fresh PostgreSQL database per run, migrated as the
schema owner, used by the tests through the runtime role (RLS applies)."""

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
]


def _require_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not os.environ.get(
        "DATABASE_OWNER_URL"
    ):
        pytest.exit(
            "The test suite runs on PostgreSQL with two roles: run `make test`, which sets "
            "DATABASE_URL (runtime role) and DATABASE_OWNER_URL (schema owner).",
            returncode=3,
        )


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
        os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        os.environ["DATABASE_OWNER_URL"],
        os.environ["DATABASE_URL"],
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

    cache.clear()
