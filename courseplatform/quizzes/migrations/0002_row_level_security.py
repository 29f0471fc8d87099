from django.db import migrations

from courseplatform.tenancy.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("quizzes", "0001_initial")]
    operations = [
        enable_rls("quizzes_quiz"),
        enable_rls("quizzes_question"),
        enable_rls("quizzes_option"),
        enable_rls("quizzes_attempt"),
    ]
