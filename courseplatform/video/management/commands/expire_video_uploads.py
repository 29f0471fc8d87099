"""Delete video uploads that were started and then abandoned (all schools)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from courseplatform.video.uploads import expire_abandoned_uploads


class Command(BaseCommand):
    help = (
        "Delete uploads still unfinished after --days without progress: their partial "
        "bytes (or S3 multipart upload) and the storage they reserve against the plan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=float, default=7.0, help="idle days (default 7)")
        parser.add_argument("--quiet", action="store_true", help="print only when removing")

    def handle(self, *args: Any, **options: Any) -> None:
        older_than = timedelta(days=options["days"])
        total = 0
        for school in School.objects.order_by("pk").iterator():
            with school_context(school):
                if not VideoAsset.objects.filter(
                    school=school, status=VideoAsset.Status.UPLOADING
                ).exists():
                    continue
                removed = expire_abandoned_uploads(school=school, older_than=older_than)
            if removed:
                self.stdout.write(f"school {school.pk}: removed {removed} abandoned upload(s)")
            total += removed
        if total or not options["quiet"]:
            self.stdout.write(f"Removed {total} abandoned upload(s).")
