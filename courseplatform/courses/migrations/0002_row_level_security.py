from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]
    operations = [
        enable_rls("courses_course"),
        enable_rls("courses_courseinstructor"),
        enable_rls("courses_section"),
        enable_rls("courses_lesson"),
        enable_rls("courses_attachment"),
        enable_rls("courses_enrollment"),
        enable_rls("courses_lessonprogress"),
    ]
