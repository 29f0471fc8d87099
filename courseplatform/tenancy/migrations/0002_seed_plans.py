from django.db import migrations

GB = 1024**3

PLANS = [
    # code, name, courses, students, storage, video minutes, largest upload, order
    ("free", "Free", 5, 100, 2 * GB, 120, 2 * GB, 1),
    ("premium", "Premium", 70, 5000, 200 * GB, 6000, 20 * GB, 2),
    ("enterprise", "Enterprise", None, None, None, None, 50 * GB, 3),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("tenancy", "Plan")
    for code, name, courses, students, storage, minutes, upload, order in PLANS:
        Plan.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name,
                max_courses=courses,
                max_students=students,
                max_storage_bytes=storage,
                max_video_minutes=minutes,
                max_upload_bytes=upload,
                sort_order=order,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
