from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Plan, School
from .selectors import forget_school


@receiver(post_save, sender=School)
@receiver(post_delete, sender=School)
def _forget_cached_school(sender: Any, instance: School, **kwargs: Any) -> None:
    # Every write path (services, admin, shell) clears the host cache.
    forget_school(instance.slug)


@receiver(post_save, sender=Plan)
def _forget_schools_of_plan(sender: Any, instance: Plan, **kwargs: Any) -> None:
    # Cached schools carry their plan's limits.
    for slug in School.objects.filter(plan=instance).values_list("slug", flat=True).iterator():
        forget_school(slug)
