from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "courseplatform.analytics"
    label = "analytics"
    verbose_name = "Analytics"
