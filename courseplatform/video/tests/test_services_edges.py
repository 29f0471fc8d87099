"""Video services refusing what they cannot do: a file name that is only a path, an
over-long title, processing a video twice or an empty upload, retrying a video still
in flight or whose source is gone. Each refusal is a ``ValidationError`` that says why
and leaves the asset as it was (or FAILED with that reason, for an empty upload)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from courseplatform.tenancy.rls import school_context
from courseplatform.video import services
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("filename", "title", "message"),
    [
        ("C:\\fakepath\\", "", "The file has no name."),
        ("   ", "", "The file has no name."),
        ("clip.mp4", "t" * 201, "Use at most 200 characters."),
    ],
)
def test_create_asset_refuses_nameless_files_and_long_titles(
    school_a: Any, filename: str, title: str, message: str
) -> None:
    school = school_a.school
    with school_context(school):
        with pytest.raises(ValidationError) as raised:
            services.create_asset(
                school=school, actor=school_a.owner, filename=filename, size=10, title=title
            )
        assert raised.value.messages == [message]
        assert not VideoAsset.objects.filter(school=school).exists()


def test_create_asset_keeps_the_last_path_component_as_the_file_name(school_a: Any) -> None:
    school = school_a.school
    with school_context(school):
        asset = services.create_asset(
            school=school, actor=school_a.owner, filename="C:\\fakepath\\clip.mp4", size=10
        )
        assert asset.source_key.endswith("/clip.mp4")


def test_start_processing_refuses_a_ready_video_and_fails_an_empty_upload(
    school_a: Any, local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        ready = services.create_asset(school=school, actor=owner, filename="a.mp4", size=3)
        VideoAsset.objects.filter(pk=ready.pk).update(status=VideoAsset.Status.READY)
        with pytest.raises(ValidationError, match="already been processed"):
            services.start_processing(school=school, asset=ready)
        ready.refresh_from_db()
        assert ready.status == VideoAsset.Status.READY

        empty = services.create_asset(school=school, actor=owner, filename="b.mp4", size=3)
        default_storage.save(empty.source_key, ContentFile(b""))
        with pytest.raises(ValidationError, match="The uploaded file is empty"):
            services.start_processing(school=school, asset=empty)
        empty.refresh_from_db()
        assert empty.status == VideoAsset.Status.FAILED
        assert empty.error_message == "The uploaded file is empty."


def test_retry_processing_refuses_videos_in_flight_and_videos_without_a_source(
    school_a: Any, local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = services.create_asset(school=school, actor=owner, filename="a.mp4", size=3)
        with pytest.raises(ValidationError, match="not finished processing yet"):
            services.retry_processing(school=school, actor=owner, asset=asset)
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.FAILED, error_message="Broken."
        )
        asset.refresh_from_db()
        with pytest.raises(ValidationError, match="The original upload is gone"):
            services.retry_processing(school=school, actor=owner, asset=asset)
        asset.refresh_from_db()
        assert (asset.status, asset.error_message) == (VideoAsset.Status.FAILED, "Broken.")
