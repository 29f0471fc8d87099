from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import hostcache
from .models import Plan, School


@receiver(post_save, sender=School)
@receiver(post_delete, sender=School)
def _forget_cached_school(sender: Any, instance: School, **kwargs: Any) -> None:
    # Every write path (services, admin, shell) makes every process look the school up
    # again, under its new slug and the one it was loaded with (a slug change).
    hostcache.school_changed(instance.slug, instance.loaded_slug)


@receiver(post_save, sender=Plan)
@receiver(post_delete, sender=Plan)
def _forget_schools_of_plan(sender: Any, instance: Plan, **kwargs: Any) -> None:
    # Cached schools carry their plan's limits.
    hostcache.plans_changed()
