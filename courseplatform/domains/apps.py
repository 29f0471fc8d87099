from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "courseplatform.domains"
    label = "domains"
    verbose_name = "Custom domains"

    def ready(self) -> None:
        from courseplatform.tenancy.usage import Meter, register_usage

        from . import selectors

        register_usage(Meter.CUSTOM_DOMAINS, self.label, selectors.custom_domain_usage)
