from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]
    operations = [
        enable_rls("api_apitoken"),
        enable_rls("api_idempotencyrecord"),
    ]
