from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "courseplatform.console"
    label = "console"
    verbose_name = "Operator console"
