"""Transcode one video now, in this process (operators; the worker does it normally)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from courseplatform.tenancy.rls import platform_bypass, school_context
from courseplatform.video.models import VideoAsset
from courseplatform.video.pipeline import Claim, process_asset
from courseplatform.video.probe import ProbeError
from courseplatform.video.tasks import mark_failed


class Command(BaseCommand):
    help = "Probe and transcode the video with the given UUID synchronously, showing progress."

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
            if not asset.source_key:
                raise CommandError("This video has no uploaded source.")
            # Claimed like a worker would (token + heartbeat): a running worker job for the
            # same asset stands down at its next heartbeat, and the watchdog leaves us be.
            token = timezone.now()
            VideoAsset.objects.filter(school=school, pk=asset.pk).update(
                status=VideoAsset.Status.PROCESSING,
                error_message="",
                progress_percent=0,
                started_at=token,
                heartbeat_at=token,
            )
            claim = Claim(school=school, asset_id=asset.pk, token=token)
            try:
                asset = process_asset(
                    school=school, asset=asset, claim=claim, echo=self.stdout.write
                )
            except Exception as exc:
                mark_failed(school=school, asset=asset, message=str(exc))
                if isinstance(exc, ProbeError):
                    raise CommandError(str(exc)) from exc
                raise
        self.stdout.write(self.style.SUCCESS(f"{asset}: {asset.status}"))
