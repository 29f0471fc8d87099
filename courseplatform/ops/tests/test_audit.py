from __future__ import annotations

import os

import psycopg
import pytest
from django.db import DatabaseError, transaction

from courseplatform.ops.models import AuditLog
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db


def test_audit_entries_cannot_be_updated_or_deleted(school_a) -> None:
    school = school_a.school
    with school_context(school):
        entry = record_audit(school=school, actor=None, action="test.event", data={"n": 1})
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditLog.objects.filter(pk=entry.pk).update(action="test.rewritten")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditLog.objects.filter(pk=entry.pk).delete()
        assert AuditLog.objects.get(pk=entry.pk).action == "test.event"


def test_even_the_schema_owner_cannot_rewrite_audit_history() -> None:
    # A separate, committed connection as the table owner: the trigger, not a
    # missing GRANT, is what refuses the change.
    with psycopg.connect(os.environ["DATABASE_OWNER_URL"], autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO ops_auditlog (action, target_type, target_id, data, created_at) "
            "VALUES ('test.owner', '', '', '{}', now()) RETURNING id"
        ).fetchone()
        assert row is not None
        entry_id = row[0]
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("UPDATE ops_auditlog SET action = 'x' WHERE id = %s", [entry_id])
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("DELETE FROM ops_auditlog WHERE id = %s", [entry_id])
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("TRUNCATE ops_auditlog")
        assert conn.execute(
            "SELECT action FROM ops_auditlog WHERE id = %s", [entry_id]
        ).fetchone() == ("test.owner",)


def test_school_creation_is_audited(school_a) -> None:
    with school_context(school_a.school):
        assert AuditLog.objects.filter(
            action="school.created", target_id=str(school_a.school.pk)
        ).exists()
