"""Delete stored idempotent answers older than 24 hours, across all schools.

Each token's expired records are also removed whenever it sends an Idempotency-Key;
this sweeps the records of tokens that went quiet. Run it daily (cron).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from courseplatform.api.services import expire_idempotency_records
from courseplatform.tenancy.rls import platform_bypass


class Command(BaseCommand):
    help = "Delete API idempotency records older than 24 hours (all schools)."

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_bypass(actor=None, reason="expire API idempotency records"):
            deleted = expire_idempotency_records()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
