"""Purge the schools whose closure grace period is over (README *Taking your school with
you*). Hourly housekeeping under ``scripts/serve.py``; a run cut short (the periodic
timeout, a crash) is finished by the next one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.portability.closure import purge_school, schools_due_for_purge


class Command(BaseCommand):
    help = "Delete every row and stored object of the schools closed longer than the grace period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print only when purging")

    def handle(self, *args: Any, **options: Any) -> None:
        purged = 0
        for school_id in schools_due_for_purge():
            report = purge_school(school_id=school_id)
            if report is None:
                continue
            purged += 1
            self.stdout.write(
                f"school {report.school_id} ({report.slug}): {sum(report.rows.values())} rows "
                f"and {report.objects} stored objects deleted"
            )
        if purged or not options["quiet"]:
            self.stdout.write(f"Purged {purged} closed school(s).")
