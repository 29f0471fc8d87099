from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "courseplatform.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from courseplatform.ops.events import subscribe

        from .services import queue_event

        # Every committed domain event becomes deliveries to the endpoints that chose it.
        subscribe(self.label, queue_event)
