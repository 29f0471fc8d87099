"""Delete finished webhook deliveries older than ``--days`` (default 30), in every school.

The delivery log keeps each request and the first 2 KB of each answer; without pruning
it grows with every event. Pending deliveries (still being retried) are never touched.
Run it daily (cron, a scheduler); it works through the audited RLS bypass.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from courseplatform.tenancy.rls import platform_bypass
from courseplatform.webhooks.models import WebhookDelivery


class Command(BaseCommand):
    help = "Delete finished webhook deliveries older than --days (default 30)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="keep this many days (>= 1)")
        parser.add_argument("--quiet", action="store_true", help="print only when deleting")

    def handle(self, *args: Any, **options: Any) -> None:
        days = max(1, int(options["days"]))
        cutoff = timezone.now() - timedelta(days=days)
        with platform_bypass(actor=None, reason=f"prune webhook deliveries older than {days} days"):
            deleted, _ = (
                WebhookDelivery.objects.filter(created_at__lt=cutoff)
                .exclude(status=WebhookDelivery.Status.PENDING)
                .delete()
            )
        if deleted or not options["quiet"]:
            self.stdout.write(f"Deleted {deleted} webhook deliveries older than {days} days.")
