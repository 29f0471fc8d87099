from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]
    operations = [
        enable_rls("notices_emailpreference"),
        enable_rls("notices_unlocknotice"),
        enable_rls("notices_announcement"),
        enable_rls("notices_announcementdelivery"),
    ]
