"""What the runtime role cannot do, whatever SQL it runs (issue 11, items 1-5).

Every test runs as the runtime role (``DATABASE_URL``) with school A's context set
and tries to reach school B, the shared plans, sessions or task rows. Each must be
refused (permission denied, a row-level security violation) or see nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from courseplatform.accounts.models import User
from courseplatform.courses.services import create_course
from courseplatform.tenancy.grants import GLOBAL_TABLES
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import PLATFORM_ALIAS, platform_bypass, school_context

pytestmark = pytest.mark.django_db

# The allow-list: tables the runtime role may read whole, whatever school is set, each
# with its reason (tenancy.grants, which also makes them read-only). Every other table
# is closed to the runtime role or under forced row-level security. tenancy_school is
# not on it: with no school set (host resolution) it shows every school, in a school's
# context only that school (test below).
READABLE_ACROSS_SCHOOLS = GLOBAL_TABLES


def _refused(sql: str, params: list[Any] | None = None) -> str:
    """Run ``sql`` as the runtime role; return the database's refusal."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(refusal.value)


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the roles ------------------------------------------------------------------------


def test_roles_runtime_cannot_become_the_platform_role() -> None:
    platform = settings.DATABASES[PLATFORM_ALIAS]["USER"]
    [(bypass, member)] = _rows(
        "SELECT rolbypassrls, pg_has_role(current_user, %s, 'MEMBER') "
        "FROM pg_roles WHERE rolname = current_user",
        [platform],
    )
    assert (bypass, member) == (False, False)
    assert "permission denied" in _refused(f'SET ROLE "{platform}"')
    with connections[PLATFORM_ALIAS].cursor() as cursor:
        cursor.execute("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (True, False)


def _current_user() -> str:
    return str(_rows("SELECT current_user")[0][0])


def test_platform_bypass_is_the_platform_connection_only_for_its_block(school_a: Any) -> None:
    runtime = settings.DATABASES["default"]["USER"]
    platform = settings.DATABASES[PLATFORM_ALIAS]["USER"]
    assert _current_user() == runtime
    with platform_bypass(actor=None, reason="test: which role"):
        assert _current_user() == platform
        with school_context(school_a.school):
            assert _current_user() == runtime
            assert _rows("SELECT current_setting('app.school_id')") == [(str(school_a.school.pk),)]
        assert _current_user() == platform
    assert _current_user() == runtime
    with pytest.raises(RuntimeError), platform_bypass(actor=None, reason="test: failure"):
        raise RuntimeError("boom")
    assert _current_user() == runtime


# --- every table ------------------------------------------------------------------------


def _tables() -> dict[str, tuple[bool, bool, bool]]:
    """table → (runtime may SELECT, RLS enabled, RLS forced)."""
    return {
        name: (readable, enabled, forced)
        for name, readable, enabled, forced in _rows(
            "SELECT c.relname, has_table_privilege(current_user, c.oid, 'SELECT'), "
            "c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')"
        )
    }


def _policies() -> dict[str, list[str]]:
    policies: dict[str, list[str]] = {}
    for table, qual, check in _rows(
        "SELECT tablename, coalesce(qual, ''), coalesce(with_check, '') FROM pg_policies "
        "WHERE schemaname = 'public'"
    ):
        policies.setdefault(table, []).append(f"{qual} {check}")
    return policies


def test_every_table_is_global_or_closed_to_other_schools() -> None:
    tables, policies = _tables(), _policies()
    assert "courses_course" in tables and "accounts_user_groups" in tables
    assert set(READABLE_ACROSS_SCHOOLS) <= set(tables)
    open_tables = []
    for table, (readable, enabled, forced) in sorted(tables.items()):
        if table in READABLE_ACROSS_SCHOOLS or not readable:
            continue
        # Readable: row-level security must be on, forced, and every policy must
        # compare the school or go through a table that does.
        expressions = policies.get(table, [])
        scoped = all(
            "app.school_id" in expression
            or any(
                parent in policies and parent not in READABLE_ACROSS_SCHOOLS
                for parent in re.findall(r"FROM (\w+)", expression)
            )
            for expression in expressions
        )
        if not (enabled and forced and expressions and scoped):
            open_tables.append(table)
    assert open_tables == [], f"the runtime role can read these across schools: {open_tables}"


def test_global_tables_are_read_only_for_the_runtime_role() -> None:
    for table in READABLE_ACROSS_SCHOOLS:
        [(insert, update, delete)] = _rows(
            "SELECT has_table_privilege(current_user, %s, 'INSERT'), "
            "has_table_privilege(current_user, %s, 'UPDATE'), "
            "has_table_privilege(current_user, %s, 'DELETE')",
            [table, table, table],
        )
        assert (insert, update, delete) == (False, False, False), table


def test_no_policy_has_a_way_around_the_school() -> None:
    for table, expressions in _policies().items():
        for expression in expressions:
            assert "rls_bypass" not in expression, table
            settings_read = set(re.findall(r"current_setting\('([^']+)'", expression))
            assert settings_read <= {"app.school_id"}, (table, expression)


# --- item 1: setting the old bypass does nothing ------------------------------------------


def test_setting_app_rls_bypass_shows_no_other_school(school_a: Any, school_b: Any) -> None:
    for created in (school_a, school_b):
        with school_context(created.school):
            create_course(school=created.school, actor=created.owner, title="Secret plans")
    with school_context(school_a.school):
        _rows("SELECT set_config('app.rls_bypass', 'on', false)")
        try:
            courses = _rows("SELECT DISTINCT school_id FROM courses_course")
            users = _rows("SELECT DISTINCT school_id FROM accounts_user")
        finally:
            _rows("SELECT set_config('app.rls_bypass', '', false)")
    assert courses == [(school_a.school.pk,)]
    assert users == [(school_a.school.pk,)]


# --- item 2: schools and plans ----------------------------------------------------------


def test_school_row_of_another_school_is_invisible_and_unchanged(
    school_a: Any, school_b: Any
) -> None:
    a, b = school_a.school.pk, school_b.school.pk
    with school_context(school_a.school):
        assert _rows("SELECT id FROM tenancy_school ORDER BY id") == [(a,)]
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenancy_school SET name = 'Pwned' WHERE id = %s", [b])
            assert cursor.rowcount == 0
        # Its own row: the name yes, the plan and the status no.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenancy_school SET name = 'Alpha Two' WHERE id = %s", [a])
            assert cursor.rowcount == 1
        premium = Plan.objects.get(code="premium").pk
        for column, value in (("plan_id", premium), ("status", "active"), ("id", b + 1000)):
            refusal = _refused(f"UPDATE tenancy_school SET {column} = %s WHERE id = %s", [value, a])
            assert "permission denied" in refusal, column
    assert School.objects.get(pk=b).name == "Bravo Academy"


def test_schools_cannot_be_deleted_or_created_from_a_school(school_a: Any, school_b: Any) -> None:
    free = Plan.objects.get(code="free").pk
    with school_context(school_a.school):
        assert "permission denied" in _refused(
            "DELETE FROM tenancy_school WHERE id = %s", [school_b.school.pk]
        )
        assert "row-level security" in _refused(
            "INSERT INTO tenancy_school (slug, name, plan_id, status, suspended_reason, "
            "created_at, updated_at) VALUES ('spawned', 'Spawned', %s, 'active', '', now(), now())",
            [free],
        )
    with school_context(None):
        # Signup (the platform host) may create an active school, never a suspended one.
        assert "row-level security" in _refused(
            "INSERT INTO tenancy_school (slug, name, plan_id, status, suspended_reason, "
            "created_at, updated_at) VALUES ('odd', 'Odd', %s, 'suspended', '', now(), now())",
            [free],
        )
    assert School.objects.filter(pk=school_b.school.pk).exists()


def test_plans_are_read_only_for_the_runtime_role(school_a: Any) -> None:
    with school_context(school_a.school):
        assert _rows("SELECT count(*) FROM tenancy_plan")[0][0] >= 3
        for statement in (
            "UPDATE tenancy_plan SET max_courses = NULL",
            "DELETE FROM tenancy_plan WHERE code = 'enterprise'",
            "INSERT INTO tenancy_plan (code, name, sort_order) VALUES ('mine', 'Mine', 9)",
        ):
            assert "permission denied" in _refused(statement), statement
    assert Plan.objects.get(code="free").max_courses is not None


# --- item 3: sessions and task rows ---------------------------------------------------------


def test_sessions_are_in_redis_and_the_session_table_is_closed(
    school_a: Any, client_for: Any
) -> None:
    from django.contrib.sessions.backends.cache import SessionStore

    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    client = client_for("alpha.localhost")
    login = client.post(
        "/accounts/login/", {"email": "owner@alpha.test", "password": "a-long-test-passphrase-42"}
    )
    assert login.status_code == 302
    assert client.get("/manage/").status_code == 200  # the session works
    assert SessionStore().exists(client.cookies[settings.SESSION_COOKIE_NAME].value)
    with school_context(school_a.school):
        assert "permission denied" in _refused("SELECT session_key FROM django_session")
    with connections[PLATFORM_ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_session")
        assert cursor.fetchone() == (0,)


def test_task_rows_are_closed_to_the_runtime_role(school_a: Any) -> None:
    with school_context(school_a.school):
        for statement in (
            "SELECT id, args_kwargs FROM django_tasks_database_dbtaskresult",
            "DELETE FROM django_tasks_database_dbtaskresult",
        ):
            assert "permission denied" in _refused(statement), statement


# --- item 4: tables keyed through a user --------------------------------------------------


# The platform role writes B's rows on its own connection: committed data.
@pytest.mark.django_db(transaction=True)
def test_user_groups_permissions_and_admin_log_follow_the_users_school(
    school_a: Any, school_b: Any
) -> None:
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    permission = Permission.objects.get(codename="view_school")
    owner_b = school_b.owner
    with platform_bypass(actor=None, reason="test: set up B's user rows"):
        group = Group.objects.create(name="Graders")
        owner_b.groups.add(group)
        owner_b.user_permissions.add(permission)
        LogEntry.objects.create(
            user=owner_b,
            content_type=ContentType.objects.get_for_model(School),
            object_id=str(school_b.school.pk),
            object_repr="bravo",
            action_flag=ADDITION,
        )
    with school_context(school_a.school):
        for table in ("accounts_user_groups", "accounts_user_user_permissions"):
            assert _rows(f"SELECT user_id FROM {table}") == [], table
        assert _rows("SELECT user_id FROM django_admin_log") == []
        # Nor can A attach B's user to anything, or write the admin log at all.
        assert "row-level security" in _refused(
            "INSERT INTO accounts_user_groups (user_id, group_id) VALUES (%s, %s)",
            [owner_b.pk, group.pk],
        )
        assert "permission denied" in _refused(
            "INSERT INTO django_admin_log (action_time, user_id, object_repr, action_flag, "
            "change_message) VALUES (now(), %s, 'x', 1, '')",
            [school_a.owner.pk],
        )
    with school_context(school_b.school):
        assert _rows("SELECT user_id FROM accounts_user_groups") == [(owner_b.pk,)]
        assert User.objects.get(pk=owner_b.pk).groups.count() == 1
