"""Least privilege in the database (issue 11, items 1, 2 and 4).

1. Every ``school_isolation`` policy written before this migration also accepted
   ``current_setting('app.rls_bypass') = 'on'``, a setting any role may set for
   itself. They are recreated from ``rls.policy_sql``, which has no such clause;
   platform-wide work uses the BYPASSRLS platform role instead.
2. ``tenancy_school`` gets one policy per command: with no school set every row
   is readable (host resolution), in a school's context only its own row; a school
   may update only its own row, a new school may only be
   inserted from the platform host (signup), and nothing may be deleted (no DELETE
   policy). Which columns the runtime role may update is in ``tenancy.grants``.
3. Tables keyed only through a user (groups, permissions, the admin log) follow
   the user's school.
"""

from typing import Any

from django.db import migrations

from courseplatform.tenancy.rls import CURRENT_SCHOOL_SQL, policy_sql, policy_through_sql

THROUGH_USER = {
    "accounts_user_groups": "user_id",
    "accounts_user_user_permissions": "user_id",
    "django_admin_log": "user_id",
}

SCHOOL_POLICIES = {
    # Host resolution runs before a school is set, so with no school every school is
    # visible; inside a school's context only its own row.
    "school_read": (
        f"FOR SELECT USING ({CURRENT_SCHOOL_SQL} IS NULL OR id = {CURRENT_SCHOOL_SQL})"
    ),
    "school_signup": (
        f"FOR INSERT WITH CHECK ({CURRENT_SCHOOL_SQL} IS NULL AND status = 'active')"
    ),
    "school_update_own": (
        f"FOR UPDATE USING (id = {CURRENT_SCHOOL_SQL}) WITH CHECK (id = {CURRENT_SCHOOL_SQL})"
    ),
}


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, qual FROM pg_policies WHERE schemaname = 'public' "
            "AND policyname = 'school_isolation' "
            "AND (qual LIKE %s OR with_check LIKE %s)",
            ["%app.rls_bypass%", "%app.rls_bypass%"],
        )
        with_bypass = cursor.fetchall()
    for table, qual in with_bypass:
        nullable = "IS NOT DISTINCT FROM" in qual
        for statement in policy_sql(table, nullable_school=nullable):
            schema_editor.execute(statement)
    for table, column in THROUGH_USER.items():
        for statement in policy_through_sql(table, column=column, parent_table="accounts_user"):
            schema_editor.execute(statement)
    schema_editor.execute('ALTER TABLE "tenancy_school" ENABLE ROW LEVEL SECURITY')
    schema_editor.execute('ALTER TABLE "tenancy_school" FORCE ROW LEVEL SECURITY')
    for name, body in SCHOOL_POLICIES.items():
        schema_editor.execute(f'DROP POLICY IF EXISTS {name} ON "tenancy_school"')
        schema_editor.execute(f'CREATE POLICY {name} ON "tenancy_school" {body}')


def backwards(apps: Any, schema_editor: Any) -> None:
    # The bypass clause is not restored: it was the defect.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SCHOOL_POLICIES:
        schema_editor.execute(f'DROP POLICY IF EXISTS {name} ON "tenancy_school"')
    for table in ["tenancy_school", *THROUGH_USER]:
        schema_editor.execute(f'DROP POLICY IF EXISTS school_isolation ON "{table}"')
        schema_editor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        schema_editor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_plan_page_limits"),
        ("accounts", "0002_row_level_security"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
