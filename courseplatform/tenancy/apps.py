from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "courseplatform.tenancy"
    label = "tenancy"
    verbose_name = "Schools and plans"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401
