from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("school_sites", "0001_initial")]
    operations = [enable_rls("school_sites_theme"), enable_rls("school_sites_page")]
