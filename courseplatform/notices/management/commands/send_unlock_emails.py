"""Queue the drip "new content is open" emails that are due (all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.notices.periodic import enqueue_unlock_emails


class Command(BaseCommand):
    help = (
        "Find drip sections that opened for enrolled students in the last "
        "DRIP_EMAIL_WINDOW_HOURS and were not announced to them yet; enqueue one email "
        "task per school (the task worker sends them, once per student and section)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing when idle")

    def handle(self, *args: Any, **options: Any) -> None:
        schools = enqueue_unlock_emails()
        if schools or not options["quiet"]:
            self.stdout.write(f"Unlock emails queued for {len(schools)} school(s).")
