from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("video", "0003_watchtime")]
    operations = [enable_rls("video_watchtime")]
