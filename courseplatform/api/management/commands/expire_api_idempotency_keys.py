"""Delete stored idempotent answers older than 24 hours, across all schools.

Each token's expired records are also removed whenever it sends an Idempotency-Key;
this sweeps the records of tokens that went quiet. Run it daily (cron).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.api.services import expire_idempotency_records
from courseplatform.tenancy.rls import platform_bypass


class Command(BaseCommand):
    help = "Delete API idempotency records older than 24 hours (all schools)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print only when deleting")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_bypass(actor=None, reason="expire API idempotency records"):
            deleted = expire_idempotency_records()
        if deleted or not options["quiet"]:
            self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
