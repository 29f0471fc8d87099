from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "courseplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from courseplatform.tenancy.usage import Meter, register_usage

        from .models import User
        from .selectors import count_students, count_students_query
        from .user_cache import user_changed

        # Any change to a user makes their cached row stale at once (user_cache.py).
        post_save.connect(user_changed, sender=User, dispatch_uid="accounts.user_cache.save")
        post_delete.connect(user_changed, sender=User, dispatch_uid="accounts.user_cache.delete")

        register_usage(
            Meter.STUDENTS,
            self.label,
            lambda school, exclude: count_students(school=school),
            query=count_students_query,
        )
