"""Refresh the analytics rollups of the schools that are due (all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.analytics.rollups import refresh_due


class Command(BaseCommand):
    help = (
        "Recompute course completion and the lesson funnel of every school whose figures "
        "are older than ANALYTICS_REFRESH_MINUTES (stalest first)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="schools per run")
        parser.add_argument("--budget", type=float, default=45.0, help="seconds per run")
        parser.add_argument("--quiet", action="store_true", help="print nothing when idle")

    def handle(self, *args: Any, **options: Any) -> None:
        done = refresh_due(limit=options["limit"], budget_seconds=options["budget"])
        for item in done:
            if not options["quiet"]:
                self.stdout.write(
                    f"school {item.school_id}: {item.courses} courses, {item.lessons} lessons "
                    f"in {item.seconds:.2f}s"
                )
        if not done and not options["quiet"]:
            self.stdout.write("No school's analytics are due.")
