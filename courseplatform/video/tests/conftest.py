"""Fixtures shared by the video tests: the tiny encrypted HLS ladder and ``world`` (two
schools with a video course each). S3 as the default storage is ``s3_default_storage``
(tests/fixtures/s3.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
