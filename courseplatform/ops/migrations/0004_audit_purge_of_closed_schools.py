"""The audit log stays append-only, with one exception: the purge of a closed school.

A school whose owner closed it and whose grace period is over (``tenancy_school.purge_after``
in the past) loses every row, its audit entries included (README *Taking your school with
you*). The trigger still refuses every UPDATE and TRUNCATE, and every DELETE of any other
row, for every role. Only the platform role holds the DELETE privilege
(``tenancy.grants.PLATFORM_PRIVILEGES``); the runtime role cannot delete at all.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION ops_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.school_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM tenancy_school s
        WHERE s.id = OLD.school_id AND s.purge_after IS NOT NULL AND s.purge_after <= now()
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'audit log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION ops_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_audit_school_newest"), ("tenancy", "0008_school_closure")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
