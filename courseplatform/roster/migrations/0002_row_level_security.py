from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("roster", "0001_initial")]
    operations = [
        enable_rls("roster_studentimport"),
        enable_rls("roster_studentimportrow"),
    ]
