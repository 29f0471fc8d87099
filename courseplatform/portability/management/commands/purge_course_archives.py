"""Delete expired course exports and abandoned import uploads (all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.portability.course_archive.housekeeping import has_work, purge_expired
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context


class Command(BaseCommand):
    help = (
        "Delete course export archives past their expiry (COURSE_ARCHIVE_KEEP_HOURS) and "
        "uploads of course imports that never started."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print only when removing")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for school in School.objects.order_by("pk").iterator():
            with school_context(school):
                if not has_work(school=school):
                    continue
                removed = purge_expired(school=school)
            if removed:
                self.stdout.write(f"school {school.pk}: removed {removed} course archive file(s)")
            total += removed
        if total or not options["quiet"]:
            self.stdout.write(f"Removed {total} course archive file(s).")
