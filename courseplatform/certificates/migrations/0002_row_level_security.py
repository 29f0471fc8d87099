from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_initial")]
    operations = [
        enable_rls("certificates_certificatesettings"),
        enable_rls("certificates_certificate"),
    ]
