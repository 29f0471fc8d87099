"""Row-level security for custom domains, and the one cross-school read.

``domains_customdomain`` gets the usual school policy. Host resolution runs before a
school is set and must still find the school behind ``Host: learn.example.com``:
``domains_lookup_hostname(name)`` is a SECURITY DEFINER function owned by the schema
owner (BYPASSRLS) that returns the live row for exactly that name (school, status,
failing since, primary), nothing else, so the runtime role can ask who serves a host
(public knowledge: the host itself answers) but cannot list another school's domains.
"""

from typing import Any

from django.db import migrations

from courseplatform.tenancy.rls import enable_rls

LOOKUP_FUNCTION = """
CREATE OR REPLACE FUNCTION domains_lookup_hostname(wanted text)
RETURNS TABLE (school_id bigint, status varchar, failing_since timestamptz, is_primary boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT d.school_id, d.status, d.failing_since, d.is_primary
    FROM public.domains_customdomain d
    WHERE d.hostname = $1 AND d.status <> 'removed'
    LIMIT 1
$$
"""


def create_lookup(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(LOOKUP_FUNCTION)


def drop_lookup(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP FUNCTION IF EXISTS domains_lookup_hostname(text)")


class Migration(migrations.Migration):
    dependencies = [("domains", "0001_initial")]
    operations = [
        enable_rls("domains_customdomain"),
        migrations.RunPython(create_lookup, drop_lookup, elidable=False),
    ]
