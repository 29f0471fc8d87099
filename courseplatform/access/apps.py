from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "courseplatform.access"
    label = "access"
    verbose_name = "Access codes"
