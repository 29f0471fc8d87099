from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "courseplatform.sites"
    label = "school_sites"
    verbose_name = "School sites"

    def ready(self) -> None:
        from courseplatform.accounts.services import use_email_branding

        from . import signals
        from .theming import email_branding

        signals.connect()
        use_email_branding(email_branding)
