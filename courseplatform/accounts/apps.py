from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "courseplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from courseplatform.tenancy.usage import Meter, register_usage

        from .selectors import count_students, count_students_query

        register_usage(
            Meter.STUDENTS,
            self.label,
            lambda school, exclude: count_students(school=school),
            query=count_students_query,
        )
