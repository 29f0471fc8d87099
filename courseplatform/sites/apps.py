from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "courseplatform.sites"
    label = "school_sites"
    verbose_name = "School sites"

    def ready(self) -> None:
        from courseplatform.accounts.services import use_email_branding
        from courseplatform.tenancy.usage import Meter, register_usage

        from . import signals
        from .selectors import count_pages, count_pages_query
        from .theming import email_branding

        signals.connect()
        use_email_branding(email_branding)
        register_usage(
            Meter.PAGES,
            self.label,
            lambda school, exclude: count_pages(school=school),
            query=count_pages_query,
        )
