"""Re-queue transcodes whose worker stopped sending heartbeats (all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.video.tasks import heartbeat_timeout_seconds, reclaim_stalled_videos


class Command(BaseCommand):
    help = (
        "Put PROCESSING videos whose heartbeat is older than VIDEO_HEARTBEAT_TIMEOUT_SECONDS "
        "back in the queue (or mark them failed after VIDEO_MAX_ATTEMPTS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout",
            type=int,
            default=None,
            help=f"seconds without heartbeat (default {heartbeat_timeout_seconds()})",
        )
        parser.add_argument("--quiet", action="store_true", help="print only when reclaiming")

    def handle(self, *args: Any, **options: Any) -> None:
        results = reclaim_stalled_videos(timeout_seconds=options["timeout"])
        for school_id, asset_id, outcome in results:
            self.stdout.write(f"video {asset_id} (school {school_id}): {outcome}")
        if not results and not options["quiet"]:
            self.stdout.write("No stalled videos.")
