"""Fixtures shared by the video tests: the tiny encrypted HLS ladder, S3 as the
default storage, and ``world`` (two schools with a video course each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from courseplatform.courses import services as course_services
from courseplatform.courses.models import Lesson
from courseplatform.tenancy.rls import school_context

from .playback_support import (
    HlsOutput,
    World,
    make_hls,
    make_student,
    remove_asset_files,
    store_ready_asset,
    video_course,
)


@pytest.fixture(scope="session")
def hls() -> HlsOutput:
    return make_hls(4.0)


@pytest.fixture
def s3_default_storage(s3_server: Any) -> Iterator[Any]:
    """Default storage on the session's SeaweedFS bucket, configured like production."""
    from django.core.files.storage import default_storage

    options = {
        "bucket_name": s3_server.bucket,
        "endpoint_url": s3_server.endpoint_url,
        "region_name": s3_server.region,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "security_token": None,
        "session_profile": None,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "addressing_style": "path",
        "signature_version": "s3v4",
    }
    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, VIDEO_CDN_BASE_URL=""):
        assert hasattr(default_storage, "bucket_name")
        yield default_storage


@pytest.fixture
def world(school_a: Any, school_b: Any, hls: HlsOutput) -> Iterator[World]:
    school, owner = school_a.school, school_a.owner
    other_school, other_owner = school_b.school, school_b.owner
    with school_context(school):
        asset = store_ready_asset(school=school, owner=owner, hls=hls)
    with school_context(other_school):
        other_asset = store_ready_asset(school=other_school, owner=other_owner, hls=hls)
    course = video_course(school, owner, asset)
    other_course = video_course(other_school, other_owner, other_asset)
    with school_context(school):
        preview, locked = list(Lesson.objects.filter(course=course).order_by("position"))
    with school_context(other_school):
        other_lesson = Lesson.objects.filter(course=other_course).order_by("position").last()
    assert other_lesson is not None
    student = make_student(school, "student@alpha.test")
    outsider = make_student(school, "outsider@alpha.test")
    with school_context(school):
        course_services.enroll_student(
            school=school, actor=owner, course=course, student=student, source="manual"
        )
    yield World(
        school, owner, course, preview, locked, asset, student, outsider,
        other_school, other_owner, other_lesson, other_asset,
    )  # fmt: skip
    remove_asset_files(asset)
    remove_asset_files(other_asset)
