from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "courseplatform.sites"
    label = "school_sites"
    verbose_name = "School sites"
