"""Every ORM write of a custom domain (services, operator console, shell) makes the host
lookups forget it; the services' own bulk updates announce themselves through
``services.on_domain_change`` too (``apps.py``)."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import CustomDomain
from .routing import forget_domain


@receiver(post_save, sender=CustomDomain)
@receiver(post_delete, sender=CustomDomain)
def _forget_cached_domain(sender: Any, instance: CustomDomain, **kwargs: Any) -> None:
    forget_domain(instance.hostname, school_id=instance.school_id)
