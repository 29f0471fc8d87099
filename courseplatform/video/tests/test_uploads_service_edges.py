"""The upload services (``video/uploads.py``) called with requests the endpoints rarely
see: ids that are not UUIDs, sizes that are not byte counts, uploads whose bytes are
gone, finished or failed uploads asked to take more parts, and cancellations by someone
who did not start the upload. Each is a clear ``UploadError``/404 and changes nothing."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.http import Http404

from courseplatform.accounts.models import User
from courseplatform.tenancy.rls import school_context
from courseplatform.video import multipart, uploads
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401
from courseplatform.video.uploads import UploadError

pytestmark = pytest.mark.django_db


def _tus_asset(school: Any, owner: User, size: int = 100) -> VideoAsset:
    asset, _ = uploads.tus_create(
        school=school, actor=owner, size=size, metadata={"filename": "lecture.mp4"}
    )
    return asset


def _append_ten_bytes(school: Any, owner: User, asset: VideoAsset) -> None:
    uploads.tus_append(
        school=school,
        actor=owner,
        asset=asset,
        offset=0,
        content_length=10,
        read=lambda size: b"x" * size,
    )


def test_get_upload_with_an_id_that_is_not_a_uuid_is_404(school_a: Any, local_media: Path) -> None:
    with school_context(school_a.school), pytest.raises(Http404):
        uploads.get_upload(school=school_a.school, actor=school_a.owner, upload_id="not-a-uuid")


@pytest.mark.parametrize("size", [True, "100", 1.5, -1, None])
def test_tus_create_refuses_sizes_that_are_not_byte_counts(
    school_a: Any, local_media: Path, size: Any
) -> None:
    school = school_a.school
    with school_context(school):
        with pytest.raises(UploadError, match="declare its size in bytes") as raised:
            uploads.tus_create(
                school=school, actor=school_a.owner, size=size, metadata={"filename": "a.mp4"}
            )
        assert raised.value.status == 400
        assert not VideoAsset.objects.filter(school=school).exists()


def test_tus_upload_whose_source_file_vanished_reports_offset_0_and_410_on_append(
    school_a: Any, local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = _tus_asset(school, owner)
        uploads.local_source_path(asset).unlink()
        assert uploads.tus_offset(asset) == 0
        with pytest.raises(UploadError, match="no longer exists") as raised:
            _append_ten_bytes(school, owner, asset)
        assert raised.value.status == 410
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.UPLOADING


def test_tus_append_while_another_request_writes_is_423_and_writes_nothing(
    school_a: Any, local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = _tus_asset(school, owner)
        source = uploads.local_source_path(asset)
        with source.open("r+b") as other_writer:
            fcntl.flock(other_writer.fileno(), fcntl.LOCK_EX)
            with pytest.raises(UploadError, match="Another request is writing") as raised:
                _append_ten_bytes(school, owner, asset)
        assert raised.value.status == 423
        assert source.stat().st_size == 0


def test_tus_append_to_a_finished_upload_is_409_with_its_full_offset(
    school_a: Any, local_media: Path
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = _tus_asset(school, owner, size=100)
        VideoAsset.objects.filter(pk=asset.pk).update(status=VideoAsset.Status.READY)
        asset.refresh_from_db()
        with pytest.raises(UploadError, match="already complete") as raised:
            _append_ten_bytes(school, owner, asset)
        assert (raised.value.status, raised.value.offset) == (409, 100)


def test_tus_terminate_by_someone_who_did_not_start_the_upload_is_403(
    school_a: Any, local_media: Path, make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    teacher = make_user(school, "teacher@alpha.test", role=User.Role.INSTRUCTOR)
    with school_context(school):
        asset = _tus_asset(school, school_a.owner)
        with pytest.raises(UploadError, match="Only the person who started") as raised:
            uploads.tus_terminate(school=school, actor=teacher, asset=asset)
        assert raised.value.status == 403
        assert VideoAsset.objects.filter(pk=asset.pk).exists()
        assert uploads.local_source_path(asset).exists()


# --- S3 / R2 multipart ---------------------------------------------------------------------


@pytest.fixture
def s3_school(school_a: Any, s3_default_storage: Any) -> Any:
    assert uploads.upload_mode() == "s3"
    return school_a


def _s3_asset(created: Any) -> VideoAsset:
    return multipart.s3_create(
        school=created.school,
        actor=created.owner,
        filename="lecture.mp4",
        size=1000,
        content_type="video/mp4",
        lesson_id=None,
    )


def test_s3_finished_uploads_take_no_parts_and_cannot_be_cancelled(s3_school: Any) -> None:
    school, owner = s3_school.school, s3_school.owner
    with school_context(school):
        asset = _s3_asset(s3_school)
        VideoAsset.objects.filter(pk=asset.pk).update(status=VideoAsset.Status.READY)
        asset.refresh_from_db()
        with pytest.raises(UploadError, match="finished or was cancelled") as signing:
            multipart.s3_sign_part(school=school, asset=asset, part_number=1)
        assert signing.value.status == 409
        # A retried completion of a finished upload is a no-op.
        assert multipart.s3_complete(school=school, actor=owner, asset=asset) == asset
        with pytest.raises(UploadError, match="delete the video from the video library") as abort:
            multipart.s3_abort(school=school, actor=owner, asset=asset)
        assert abort.value.status == 403
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.READY


def test_s3_completing_a_failed_upload_is_410_with_its_error(s3_school: Any) -> None:
    school, owner = s3_school.school, s3_school.owner
    with school_context(school):
        asset = _s3_asset(s3_school)
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.FAILED, error_message="The file is not a video."
        )
        asset.refresh_from_db()
        with pytest.raises(UploadError, match=r"The file is not a video\.") as raised:
            multipart.s3_complete(school=school, actor=owner, asset=asset)
        assert raised.value.status == 410


def test_s3_abort_by_someone_who_did_not_start_the_upload_is_403(
    s3_school: Any, make_user: Callable[..., Any]
) -> None:
    school = s3_school.school
    teacher = make_user(school, "teacher@alpha.test", role=User.Role.INSTRUCTOR)
    with school_context(school):
        asset = _s3_asset(s3_school)
        with pytest.raises(Http404):  # the bytes are in the bucket, not on a local disk
            uploads.local_source_path(asset)
        with pytest.raises(UploadError, match="Only the person who started") as raised:
            multipart.s3_abort(school=school, actor=teacher, asset=asset)
        assert raised.value.status == 403
        assert VideoAsset.objects.filter(pk=asset.pk, status="uploading").exists()
        # The owner may cancel it: the multipart upload is gone from the bucket.
        multipart.s3_abort(school=school, actor=s3_school.owner, asset=asset)
        assert not VideoAsset.objects.filter(pk=asset.pk).exists()


def test_s3_upload_cancelled_in_the_bucket_is_410_on_resume(s3_school: Any) -> None:
    school = s3_school.school
    with school_context(school):
        asset = _s3_asset(s3_school)
        # A bucket lifecycle rule (or an operator) aborts the multipart upload.
        multipart._s3_client().abort_multipart_upload(
            Bucket=multipart._s3_bucket(),
            Key=multipart._s3_key(asset),
            UploadId=asset.multipart_upload_id,
        )
        with pytest.raises(UploadError, match="was cancelled; start it again") as raised:
            multipart.s3_list_parts(school=school, asset=asset)
        assert raised.value.status == 410
        asset.refresh_from_db()
        assert asset.status == VideoAsset.Status.UPLOADING
