from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "courseplatform.dashboard"
    label = "dashboard"
    verbose_name = "School dashboard"
