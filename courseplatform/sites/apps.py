from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "courseplatform.sites"
    label = "school_sites"
    verbose_name = "School sites"

    def ready(self) -> None:
        from . import signals

        signals.connect()
