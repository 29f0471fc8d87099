from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [
        enable_rls("access_accesscodebatch"),
        enable_rls("access_batchcourse"),
        enable_rls("access_accesscode"),
        enable_rls("access_redemption"),
    ]
