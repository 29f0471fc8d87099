"""Row-level security proven on its own, below the ORM's scoping."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from courseplatform.accounts.models import User
from courseplatform.ops.models import AuditLog
from courseplatform.sites.models import Page
from courseplatform.tenancy.models import TenantModel
from courseplatform.tenancy.rls import platform_bypass, school_context

pytestmark = pytest.mark.django_db


def test_runtime_role_is_not_owner_superuser_or_bypassrls() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tableowner = current_user"
        )
        assert cursor.fetchone() == (0,)


def _tenant_tables() -> list[str]:
    tables = [model._meta.db_table for model in apps.get_models() if issubclass(model, TenantModel)]
    return sorted([*tables, User._meta.db_table, AuditLog._meta.db_table])


def test_every_tenant_table_forces_rls_with_a_policy() -> None:
    tables = _tenant_tables()
    assert "school_sites_page" in tables and "accounts_loginlink" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) "
            "FROM pg_class c WHERE c.relname = ANY(%s)",
            [tables],
        )
        rows = {name: (rls, force, policies) for name, rls, force, policies in cursor.fetchall()}
    assert set(rows) == set(tables)
    for table, (rls, force, policies) in rows.items():
        assert rls and force and policies >= 1, f"{table} is not under row-level security"


def test_unscoped_query_in_school_context_sees_only_that_school(school_a, school_b) -> None:
    with school_context(school_a.school):
        # Deliberately unscoped: no .filter(school=...).
        pages = list(Page.objects.all())
        users = list(User.objects.all())
    assert pages and {p.school_id for p in pages} == {school_a.school.pk}
    assert users and {u.school_id for u in users} == {school_a.school.pk}
    with school_context(school_b.school):
        assert {p.school_id for p in Page.objects.all()} == {school_b.school.pk}


def test_outside_any_school_tenant_rows_are_invisible(school_a) -> None:
    with school_context(None):
        assert Page.objects.count() == 0
        assert not User.objects.filter(school__isnull=False).exists()


def test_insert_for_another_school_is_refused_by_the_database(school_a, school_b) -> None:
    with school_context(school_a.school):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Page.objects.create(school=school_b.school, slug="sneaky", title="Sneaky")
    with school_context(school_b.school):
        assert not Page.objects.filter(slug="sneaky").exists()


def test_update_moving_a_row_to_another_school_is_refused(school_a, school_b) -> None:
    with school_context(school_a.school):
        page = Page.objects.get(school=school_a.school, is_home=True)
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Page.objects.filter(pk=page.pk).update(school=school_b.school)


def test_update_of_another_schools_row_touches_nothing(school_a, school_b) -> None:
    with school_context(school_b.school):
        page_b = Page.objects.get(is_home=True)
    with school_context(school_a.school):
        # The row is invisible, so the UPDATE matches zero rows even by primary key.
        assert Page.objects.filter(pk=page_b.pk).update(title="Defaced") == 0
        assert Page.objects.filter(pk=page_b.pk).delete()[0] == 0
    with school_context(school_b.school):
        assert Page.objects.get(pk=page_b.pk).title != "Defaced"


def test_raw_sql_is_bound_too(school_a, school_b) -> None:
    with school_context(school_a.school), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT school_id FROM school_sites_page")
        assert cursor.fetchall() == [(school_a.school.pk,)]


def test_context_is_restored_after_an_exception(school_a) -> None:
    with pytest.raises(RuntimeError), school_context(school_a.school):
        raise RuntimeError("boom")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.school_id', true)")
        assert cursor.fetchone()[0] in ("", None)


# The platform role has its own connection: it sees what the test committed.
@pytest.mark.django_db(transaction=True)
def test_platform_bypass_sees_all_schools_and_is_audited(school_a, school_b) -> None:
    with platform_bypass(actor=None, reason="test: cross-school report"):
        schools = set(Page.objects.values_list("school_id", flat=True))
        assert schools >= {school_a.school.pk, school_b.school.pk}
        entry = AuditLog.objects.filter(action="platform.rls_bypass").latest("id")
        assert entry.data["reason"] == "test: cross-school report"
    with school_context(None):
        assert Page.objects.count() == 0
