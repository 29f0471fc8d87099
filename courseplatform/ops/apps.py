from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "courseplatform.ops"
    label = "ops"
    verbose_name = "Operations"
