from django.db import migrations, models

# Custom domains per plan (issue 13): none on Free, 1 on Premium, 10 on Enterprise.
LIMITS = {"free": 0, "premium": 1, "enterprise": 10}


def seed(apps, schema_editor):
    Plan = apps.get_model("tenancy", "Plan")
    for code, domains in LIMITS.items():
        Plan.objects.filter(code=code).update(max_custom_domains=domains)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0005_least_privilege_policies")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="max_custom_domains",
            field=models.PositiveIntegerField(blank=True, default=0, null=True),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
