"""Transcode one video now, in this process (operators; the worker does it normally)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseplatform.tenancy.rls import platform_bypass, school_context
from courseplatform.video.models import VideoAsset
from courseplatform.video.pipeline import process_asset
from courseplatform.video.probe import ProbeError
from courseplatform.video.services import mark_failed


class Command(BaseCommand):
    help = "Probe and transcode the video with the given UUID synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("uuid", help="VideoAsset.uuid")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_bypass(actor=None, reason="manage.py transcode_video"):
            asset = (
                VideoAsset.objects.select_related("school__plan")
                .filter(uuid=options["uuid"])
                .first()
            )
        if asset is None:
            raise CommandError("No video with that UUID.")
        school = asset.school
        with school_context(school):
            VideoAsset.objects.filter(school=school, pk=asset.pk).update(
                status=VideoAsset.Status.PROCESSING, error_message="", progress_percent=0
            )
            try:
                asset = process_asset(school=school, asset=asset, echo=self.stdout.write)
            except ProbeError as exc:
                mark_failed(school=school, asset=asset, message=str(exc))
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{asset}: {asset.status}"))
