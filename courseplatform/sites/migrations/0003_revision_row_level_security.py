from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("school_sites", "0002_row_level_security")]
    operations = [enable_rls("school_sites_pagerevision")]
