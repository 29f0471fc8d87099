from django.db import migrations

from courseplatform.tenancy.rls import enable_rls

TRIGGER = """
CREATE OR REPLACE FUNCTION ops_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ops_auditlog_append_only ON ops_auditlog;
CREATE TRIGGER ops_auditlog_append_only BEFORE UPDATE OR DELETE ON ops_auditlog
    FOR EACH ROW EXECUTE FUNCTION ops_auditlog_refuse_change();
DROP TRIGGER IF EXISTS ops_auditlog_no_truncate ON ops_auditlog;
CREATE TRIGGER ops_auditlog_no_truncate BEFORE TRUNCATE ON ops_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION ops_auditlog_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS ops_auditlog_append_only ON ops_auditlog;
DROP TRIGGER IF EXISTS ops_auditlog_no_truncate ON ops_auditlog;
DROP FUNCTION IF EXISTS ops_auditlog_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial")]
    operations = [
        migrations.RunPython(forwards, backwards),
        # Platform entries (school NULL) are visible only outside any school.
        enable_rls("ops_auditlog", nullable_school=True),
    ]
