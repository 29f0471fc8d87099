"""Resume announcements whose batches stopped (a worker died mid-batch; all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.notices.periodic import resume_stalled_announcements


class Command(BaseCommand):
    help = (
        "Find announcements with emails still to send and nothing sent for "
        "STALLED_BATCH_MINUTES; put the emails a stopped batch left 'sending' back "
        "to waiting and enqueue the next batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing when idle")

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = resume_stalled_announcements()
        if resumed or not options["quiet"]:
            self.stdout.write(f"Announcements resumed: {len(resumed)}.")
