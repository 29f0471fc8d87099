from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [enable_rls("analytics_coursestat"), enable_rls("analytics_lessonstat")]
