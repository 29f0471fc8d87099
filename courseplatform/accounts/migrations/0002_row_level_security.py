from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [
        # Users: NULL school = platform staff, visible only outside any school.
        enable_rls("accounts_user", nullable_school=True),
        enable_rls("accounts_loginlink"),
    ]
