"""Resume bulk student imports whose batches stopped (a worker died mid-batch)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.roster.periodic import resume_stalled_imports


class Command(BaseCommand):
    help = (
        "Find bulk imports with rows still to apply and nothing taken for "
        "STALLED_BATCH_MINUTES; put the rows a stopped batch left 'applying' back to "
        "waiting and enqueue the next batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing when idle")

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = resume_stalled_imports()
        if resumed or not options["quiet"]:
            self.stdout.write(f"Imports resumed: {len(resumed)}.")
