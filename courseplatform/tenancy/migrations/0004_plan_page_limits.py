from django.db import migrations

KB = 1024
LIMITS = {"free": (5, 256 * KB), "premium": (50, 1024 * KB), "enterprise": (None, 2048 * KB)}


def seed(apps, schema_editor):
    Plan = apps.get_model("tenancy", "Plan")
    for code, (pages, page_bytes) in LIMITS.items():
        Plan.objects.filter(code=code).update(max_pages=pages, max_page_bytes=page_bytes)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_plan_max_page_bytes_plan_max_pages")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
