"""Delete the files of whole-school exports past ``SCHOOL_EXPORT_TTL_HOURS`` (hourly
housekeeping under ``scripts/serve.py``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.portability.school_export.services import expire_exports


class Command(BaseCommand):
    help = "Delete the files of expired whole-school exports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print only when deleting")

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_exports()
        if expired or not options["quiet"]:
            self.stdout.write(f"Expired {expired} school export(s).")
