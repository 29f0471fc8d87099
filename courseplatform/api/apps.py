from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "courseplatform.api"
    label = "api"
    verbose_name = "Public REST API"
