"""Who may manage which video (``accounts.permissions``): the owner every video of the
school, an instructor the videos they uploaded, and only lessons of courses they
teach; another school's videos and lessons are 404, students 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courseplatform.tenancy.rls import school_context
from courseplatform.video import services, uploads
from courseplatform.video.models import VideoAsset
from tests.fixtures.permissions import Cast, logged_in

pytestmark = pytest.mark.django_db

TUS = {"Tus-Resumable": uploads.TUS_VERSION}


def _exists(school: Any, asset: VideoAsset) -> bool:
    with school_context(school):
        return VideoAsset.objects.filter(pk=asset.pk).exists()


def test_video_services_uploader_or_owner_manage_a_video(cast: Cast) -> None:
    school = cast.school
    with school_context(school):
        for write in (services.delete_asset, services.retry_processing):
            with pytest.raises(PermissionDenied):
                write(school=school, actor=cast.teacher, asset=cast.their_video)
            with pytest.raises(PermissionDenied):
                write(school=school, actor=cast.student, asset=cast.my_video)
            with pytest.raises(Http404):
                write(school=school, actor=cast.owner, asset=cast.other_video)
        services.delete_asset(school=school, actor=cast.teacher, asset=cast.my_video)
        services.delete_asset(school=school, actor=cast.owner, asset=cast.their_video)
    assert not _exists(school, cast.my_video) and not _exists(school, cast.their_video)
    assert _exists(cast.other_school, cast.other_video)


def test_video_attach_only_to_lessons_of_taught_courses(cast: Cast) -> None:
    school = cast.school
    with school_context(school):
        with pytest.raises(PermissionDenied):
            services.attach_video_to_lesson(
                school=school, actor=cast.teacher, lesson=cast.their_lesson, asset=cast.my_video
            )
        with pytest.raises(Http404):
            services.attach_video_to_lesson(
                school=school, actor=cast.owner, lesson=cast.my_lesson, asset=cast.other_video
            )
        with pytest.raises(Http404):
            services.attach_video_to_lesson(
                school=school, actor=cast.owner, lesson=cast.other_lesson, asset=None
            )
        services.attach_video_to_lesson(
            school=school, actor=cast.teacher, lesson=cast.my_lesson, asset=cast.my_video
        )
        cast.their_lesson.refresh_from_db()
        cast.my_lesson.refresh_from_db()
        assert cast.their_lesson.video_id is None and cast.my_lesson.video_id == cast.my_video.pk


def test_video_pages_students_403_other_schools_ids_404(cast: Cast) -> None:
    student = logged_in(cast.student)
    for url in (
        "/manage/videos/",
        f"/manage/videos/{cast.my_video.pk}/status/",
        f"/manage/videos/{cast.my_video.pk}/delete/",
        f"/manage/videos/lessons/{cast.my_lesson.pk}/status/",
    ):
        assert student.get(url).status_code == 403, url
    assert student.head(f"/manage/videos/tus/{cast.my_video.uuid}/", headers=TUS).status_code == 403

    owner = logged_in(cast.owner)
    for url in (
        f"/manage/videos/{cast.other_video.pk}/status/",
        f"/manage/videos/{cast.other_video.pk}/delete/",
        f"/manage/videos/lessons/{cast.other_lesson.pk}/status/",
    ):
        assert owner.get(url).status_code == 404, url
        assert owner.post(url).status_code == 404, url
    tus = f"/manage/videos/tus/{cast.other_video.uuid}/"
    assert owner.head(tus, headers=TUS).status_code == 404
    assert owner.delete(tus, headers=TUS).status_code == 404
    assert _exists(cast.other_school, cast.other_video)


def test_video_an_instructor_cannot_touch_a_colleagues_upload_or_lesson(cast: Cast) -> None:
    teacher = logged_in(cast.teacher)
    tus = f"/manage/videos/tus/{cast.their_video.uuid}/"
    assert teacher.head(tus, headers=TUS).status_code == 403
    assert teacher.delete(tus, headers=TUS).status_code == 403
    deleted = teacher.post(f"/manage/videos/{cast.their_video.pk}/delete/")
    assert deleted.status_code == 302  # back to the library with the reason
    assert _exists(cast.school, cast.their_video)
    status = teacher.get(f"/manage/videos/lessons/{cast.their_lesson.pk}/status/")
    assert status.status_code == 403
    library = teacher.get("/manage/videos/").content.decode()
    assert "mine" in library and "theirs" in library  # the library is the school's
    assert (
        teacher.delete(f"/manage/videos/tus/{cast.my_video.uuid}/", headers=TUS).status_code == 204
    )
    assert not _exists(cast.school, cast.my_video)
