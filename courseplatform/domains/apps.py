from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "courseplatform.domains"
    label = "domains"
    verbose_name = "Custom domains"

    def ready(self) -> None:
        from courseplatform.tenancy.custom_hosts import serve_custom_hosts_with
        from courseplatform.tenancy.usage import Meter, register_usage

        from . import routing, selectors, services, signals  # noqa: F401

        register_usage(Meter.CUSTOM_DOMAINS, self.label, selectors.custom_domain_usage)
        # Custom domains in host resolution (tenancy knows no feature app).
        serve_custom_hosts_with(
            school_for_host=routing.school_for_host, primary_host_of=routing.primary_host_of
        )
        # The services' bulk updates (remove, primary) send no model signal.
        services.on_domain_change("host-cache", routing.forget_domain)
