"""`manage.py expire_video_uploads` across schools: only stale unfinished uploads go,
and the summary names only the schools that lost some."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from courseplatform.tenancy.rls import school_context
from courseplatform.video import services
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _upload_started(created: Any, name: str, *, idle_days: float) -> VideoAsset:
    with school_context(created.school):
        asset = services.create_asset(
            school=created.school, actor=created.owner, filename=name, size=1000
        )
        VideoAsset.objects.filter(pk=asset.pk).update(
            updated_at=timezone.now() - timedelta(days=idle_days)
        )
    return asset


def test_expire_video_uploads_reports_per_school_and_keeps_fresh_ones(
    make_school: Callable[..., Any],
    local_media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stale_school = make_school("expirea")
    fresh_school = make_school("expireb")
    make_school("expirec")  # no uploads at all
    stale = _upload_started(stale_school, "old.mp4", idle_days=9)
    fresh = _upload_started(fresh_school, "new.mp4", idle_days=1)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_video_uploads", "--days", "7", stdout=out)
    assert out.getvalue().splitlines() == [
        f"school {stale_school.school.pk}: removed 1 abandoned upload(s)",
        "Removed 1 abandoned upload(s).",
    ]
    with school_context(stale_school.school):
        assert not VideoAsset.objects.filter(pk=stale.pk).exists()
    with school_context(fresh_school.school):
        assert VideoAsset.objects.get(pk=fresh.pk).status == VideoAsset.Status.UPLOADING

    out = io.StringIO()
    call_command("expire_video_uploads", "--days", "0.5", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Removed 1 abandoned upload(s)."
    out = io.StringIO()  # nothing left to expire: the periodic service's run is silent
    call_command("expire_video_uploads", "--quiet", stdout=out)
    assert out.getvalue() == ""
