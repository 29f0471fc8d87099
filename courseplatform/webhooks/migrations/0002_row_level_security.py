from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]
    operations = [
        enable_rls("webhooks_webhookendpoint"),
        enable_rls("webhooks_webhookdelivery"),
    ]
