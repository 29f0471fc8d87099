from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("video", "0001_initial")]
    operations = [enable_rls("video_videoasset"), enable_rls("video_rendition")]
